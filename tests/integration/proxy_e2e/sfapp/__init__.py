"""A Django app over sfbridge's synced tables (managed = False models), for proxy_orm_test."""
