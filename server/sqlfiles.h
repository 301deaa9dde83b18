/*
 * sqlfiles.h - the SQL of sql/, compiled into the binary by
 * scripts/embed-sql.sh: migrations in version order, and the named
 * statements that every pooled connection prepares once.
 */
#ifndef TOLLGATE_SQLFILES_H
#define TOLLGATE_SQLFILES_H

#include <stddef.h>

struct sql_file {
	int version;		/* migrations only; 0 for queries */
	const char *name;	/* file name without ".sql" */
	const char *text;
};

extern const struct sql_file sql_migrations[];
extern const size_t sql_migrations_count;
extern const struct sql_file sql_queries[];
extern const size_t sql_queries_count;

#endif
