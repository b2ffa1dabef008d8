"""Apps kept in a database (SQLite or PostgreSQL) beside the file and environment apps."""
