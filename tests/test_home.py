"""The landing page lists the endpoints and links the admin."""


def test_the_home_page_lists_the_legacy_endpoints(client):
    response = client.get("/")
    assert response.status_code == 200
    for text in (b"/php/api.php", b"/php/model/sql.php", b"/php/pcap2text.php", b"/admin/"):
        assert text in response.content
