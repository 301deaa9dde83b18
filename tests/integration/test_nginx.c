/*
 * test_nginx.c - Debian's nginx with docs/nginx.conf in front of a stub
 * model endpoint and the server under test: a call tollgate allows reaches
 * the model with its reservation id, a throttled one comes back 429 with
 * Retry-After, a paused one 402.
 *
 * The configuration is the documented file with its addresses and key
 * replaced, and a stub model server added.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/integration/itest.h"

#define NGINX "/usr/sbin/nginx"

struct call {
	long status;
	char headers[4096];
	size_t hlen;
	struct buf body;
};

static size_t
collect_header(char *data, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t len = size * n;

	if (c->hlen + len < sizeof c->headers) {
		memcpy(c->headers + c->hlen, data, len);
		c->hlen += len;
		c->headers[c->hlen] = '\0';
	}
	return len;
}

/* The value of a response header (case as nginx sends it), or "". */
static const char *
header(const struct call *c, const char *name)
{
	static char out[128];
	const char *p = strstr(c->headers, name);
	size_t i = 0;

	out[0] = '\0';
	if (p == NULL || p[strlen(name)] != ':')
		return out;
	p += strlen(name) + 1;
	while (*p == ' ')
		p++;
	while (*p != '\r' && *p != '\n' && *p != '\0' && i + 1 < sizeof out)
		out[i++] = *p++;
	out[i] = '\0';
	return out;
}

static void
call(int port, const char *team, long max_output, struct call *c)
{
	struct curl_slist *h = NULL;
	char url[128], hb[4][96];
	CURL *e = curl_easy_init();

	memset(c, 0, sizeof *c);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions",
	    port);
	snprintf(hb[0], sizeof hb[0], "X-Team: %s", team);
	snprintf(hb[1], sizeof hb[1], "X-Model: gpt-4o");
	snprintf(hb[2], sizeof hb[2], "X-Input-Tokens: 1000");
	snprintf(hb[3], sizeof hb[3], "X-Max-Output-Tokens: %ld", max_output);
	h = curl_slist_append(h, hb[0]);
	h = curl_slist_append(h, hb[1]);
	h = curl_slist_append(h, hb[2]);
	h = curl_slist_append(h, hb[3]);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, itest_collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->body);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
}

/* Replace the first `from` in *s by `to`; 0 when found. */
static int
replace(char **s, const char *from, const char *to)
{
	char *at = strstr(*s, from), *out;
	size_t n;

	if (at == NULL)
		return -1;
	n = strlen(*s) - strlen(from) + strlen(to) + 1;
	if ((out = malloc(n)) == NULL)
		return -1;
	snprintf(out, n, "%.*s%s%s", (int)(at - *s), *s, to, at + strlen(from));
	free(*s);
	*s = out;
	return 0;
}

/* docs/nginx.conf made to point at this test's servers. */
static int
write_conf(const char *dir, int port, int stub)
{
	char *conf = itest_slurp("docs/nginx.conf"), path[256], buf[256];
	char *last;
	FILE *fp;
	int bad = conf == NULL;

	snprintf(buf, sizeof buf, "server 127.0.0.1:%d;", itest_server_port());
	bad = bad || replace(&conf, "server 127.0.0.1:8080;", buf) != 0;
	snprintf(buf, sizeof buf, "listen 127.0.0.1:%d;", port);
	bad = bad || replace(&conf, "listen 127.0.0.1:8081;", buf) != 0;
	snprintf(buf, sizeof buf, "server 127.0.0.1:%d;", stub);
	bad = bad || replace(&conf, "server api.openai.com:443;", buf) != 0;
	/* auth_request logs every refusal as an error: keep them out of
	 * the test's output. */
	snprintf(buf, sizeof buf, "error_log %s/error.log warn;", dir);
	bad = bad || replace(&conf, "error_log stderr warn;", buf) != 0;
	bad = bad || replace(&conf, "proxy_pass https://model;",
	    "proxy_pass http://model;") != 0;
	snprintf(buf, sizeof buf, "\"Bearer %s\"", gateway_key);
	bad = bad || replace(&conf, "\"Bearer tg_REPLACE_WITH_A_GATEWAY_KEY\"",
	    buf) != 0;
	if (bad || (last = strrchr(conf, '}')) == NULL) {
		free(conf);
		return -1;
	}
	*last = '\0';
	snprintf(path, sizeof path, "%s/nginx.conf", dir);
	if ((fp = fopen(path, "w")) == NULL) {
		free(conf);
		return -1;
	}
	fprintf(fp, "%s\tserver {\n\t\tlisten 127.0.0.1:%d;\n\t\tlocation / "
	    "{\n\t\t\tadd_header X-Seen-Reservation "
	    "$http_x_tollgate_reservation_id always;\n\t\t\treturn 200 "
	    "\"stub model\\n\";\n\t\t}\n\t}\n}\n", conf, stub);
	fclose(fp);
	free(conf);
	return 0;
}

static pid_t
start_nginx(const char *dir)
{
	char conf[256];
	pid_t pid;

	snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
	if ((pid = fork()) == 0) {
		execl(NGINX, "nginx", "-p", dir, "-c", conf, "-g", "daemon off;",
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
t_nginx_front_door(void)
{
	char dir[] = "/tmp/tollgate-nginx.XXXXXX", tmp[256], id[32];
	int port = itest_free_port(), stub = itest_free_port(), up = 0, i;
	struct call c;
	struct resp *r;
	pid_t pid;

	CHECK(access(NGINX, X_OK) == 0, "nginx is not installed (scripts/deps.sh "
	    "installs it)");
	if (access(NGINX, X_OK) != 0 || mkdtemp(dir) == NULL)
		return;
	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	mkdir(tmp, 0755);
	chmod(dir, 0755);
	CHECK(write_conf(dir, port, stub) == 0, "docs/nginx.conf has changed "
	    "shape: the test cannot point it at its servers");
	pid = start_nginx(dir);
	/* Up when it answers at all (a call with no team is refused). */
	for (i = 0; i < 200 && !up; i++) {
		call(port, "", 10, &c);
		up = c.status != 0;
		free(c.body.p);
		if (!up)
			usleep(50000);
	}
	CHECK(up, "nginx did not come up on port %d", port);

	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"ngx\",\"name\":\"nginx\"}", NULL);
	resp_free(r);
	r = http("POST", "/v1/budgets", admin_key, "{\"name\":\"ngx\",\"scope\":"
	    "{\"cost_center\":\"ngx\"},\"period\":\"total\",\"amount\":\"0.03\","
	    "\"reserve\":\"estimate\"}", NULL);
	CHECK(r->status == 201, "%s", r->body);
	snprintf(id, sizeof id, "%s", jstr(r, "id"));
	resp_free(r);

	/* Allowed: the model answers, and sees the reservation. */
	call(port, "ngx", 2000, &c);
	CHECK(c.status == 200 && c.body.p != NULL &&
	    strstr(c.body.p, "stub model") != NULL, "allow: %ld %s", c.status,
	    c.headers);
	CHECK(strncmp(header(&c, "X-Seen-Reservation"), "rsv_", 4) == 0 &&
	    strcmp(header(&c, "X-Seen-Reservation"),
	    header(&c, "X-Tollgate-Reservation-Id")) == 0, "reservation: %s",
	    c.headers);
	free(c.body.p);
	/* 0.0225 held of 0.03: the next one waits for it. */
	call(port, "ngx", 2000, &c);
	CHECK(c.status == 429 && atoi(header(&c, "Retry-After")) >= 1 &&
	    strcmp(header(&c, "X-Tollgate-Reason"), "room_held_by_inflight") == 0,
	    "throttle: %ld %s", c.status, c.headers);
	free(c.body.p);
	/* Spent to the cap: paused. */
	r = http("POST", "/v1/usage", gateway_key, "{\"id\":\"ngx-1\","
	    "\"cost_center\":\"ngx\",\"provider\":\"openai\",\"model\":"
	    "\"gpt-4o\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":"
	    "2750}}", NULL);
	CHECK(r->status == 200, "%s", r->body);
	resp_free(r);
	call(port, "ngx", 10, &c);
	CHECK(c.status == 402 &&
	    strcmp(header(&c, "X-Tollgate-Reason"), "budget_exhausted") == 0,
	    "pause: %ld %s", c.status, c.headers);
	free(c.body.p);

	kill(pid, SIGQUIT);
	waitpid(pid, NULL, 0);
	snprintf(tmp, sizeof tmp, "rm -rf %s", dir);
	(void)run_cmd(tmp, NULL, 0);
}

const struct itest nginx_tests[] = {
	{ "nginx with docs/nginx.conf passes allow, 429 and 402 through",
	  t_nginx_front_door },
	{ NULL, NULL }
};
