"""Tests of the sniffer data layer and its domain packages, one folder per package."""
