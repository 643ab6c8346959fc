"""Faces for programs: thin adapters from a protocol to the services and back.

* ``api.legacy``: the old GUI's PHP paths (api.php, sql.php, pcap.php, wav.php, pcap2text.php,
  admin.php), answering in the shapes deployed scripts parse.

A face translates parameters into the services (``cdr``, ``accounts``) and their results into
its format. It never imports another face (``sharing``, another ``api`` sub-package).
"""
