"""Staff (员工): technicians with skills and a location, for dispatch."""
