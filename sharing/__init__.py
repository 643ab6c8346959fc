"""Share links: one call (or its legs) shown to someone without an account, for a while.

Two layers in one Django app (docs/architecture.md, contracts in pyproject.toml):

* service layer: ``sharing.models`` (the stored ``Share``) and ``sharing.service`` (tokens and
  their hashes, create / open / revoke, expiry, password throttling, the "never more than its
  creator" checks, audit, the anonymised view of a call). Faces call it: api.php
  ``getShareURL``, ``utilities.php?task=shareCdr``, the REST API, the GUI's call page.
* face: ``sharing.pages`` (the public share pages and the share-site host guard),
  ``sharing.urls``, ``sharing.admin``, ``sharing.branding`` (the product name in templates,
  and the share site's address that the settings and the service derive from it).
  Templates live in ``templates/sharing/``.
"""
