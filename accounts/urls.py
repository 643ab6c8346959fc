from django.urls import path

from accounts import views

urlpatterns = [path("audit/", views.audit_log, name="audit_log")]
