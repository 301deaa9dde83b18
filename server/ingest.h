/*
 * ingest.h - POST /v1/usage: usage events validated, priced and booked,
 * each exactly once, with the reply sent only after the commit.
 *
 * Group commit: while one batch is being committed, the events of every
 * request that arrives wait together and go to PostgreSQL as the next
 * batch, in one statement, so throughput does not depend on one commit per
 * request.
 */
#ifndef TOLLGATE_INGEST_H
#define TOLLGATE_INGEST_H

struct tg_server;
struct ingest;

struct ingest *ingest_new(struct tg_server *srv);
/* Answer every request still waiting with 503; commit nothing more. */
void ingest_stop(struct ingest *in);
void ingest_free(struct ingest *in);

#endif
