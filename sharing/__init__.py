"""Share links (a later issue): a face over the CDR query engine and media, like ``api``."""
