"""Estates (小区), their buildings (楼栋) and units (房屋)."""
