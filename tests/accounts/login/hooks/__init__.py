"""custom_login hooks used by the tests (as an admin would write them)."""
