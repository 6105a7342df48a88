"""Implementations of the domain ports, one subpackage per technology."""
