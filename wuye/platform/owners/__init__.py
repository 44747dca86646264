"""Owners (业主) and who owns which unit, co-owners included."""
