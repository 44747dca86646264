"""Bills (账单): what a unit owes for property fees, utilities, heating or parking, and the
payments recorded against it - issued by the platform or imported from an external system."""
