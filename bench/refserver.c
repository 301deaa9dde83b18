/*
 * refserver.c - the reference for `make bench`: the cheapest possible
 * libevent evhttp server answering a small JSON body, so that tollgate's
 * figures can be read as a ratio against what evhttp itself costs on the
 * same machine in the same run.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static void
reply(struct evhttp_request *req, void *arg)
{
	struct evbuffer *buf = arg;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add_reference(evhttp_request_get_output_buffer(req),
	    evbuffer_pullup(buf, -1), evbuffer_get_length(buf), NULL, NULL);
	evhttp_send_reply(req, 200, "OK", NULL);
}

int
main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct evbuffer *body = evbuffer_new();
	int port = argc > 1 ? atoi(argv[1]) : 18090;

	evbuffer_add_printf(body, "{\"status\":\"ok\"}\n");
	evhttp_set_gencb(http, reply, body);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
		fprintf(stderr, "refserver: cannot listen on %d\n", port);
		return 1;
	}
	event_base_dispatch(base);
	return 0;
}
