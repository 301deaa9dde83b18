/*
 * test_config.c - settings from the environment and from a file: defaults,
 * bounds, the file's two spellings, the environment winning, and a
 * one-line error that names the setting for every bad value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

static void
clear_env(void)
{
	unsetenv("TOLLGATE_CONFIG");
	unsetenv("TOLLGATE_LISTEN");
	unsetenv("TOLLGATE_LOG_LEVEL");
	unsetenv("TOLLGATE_DB_POOL_SIZE");
	unsetenv("TOLLGATE_BODY_LIMIT");
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static void
test_defaults(void **state)
{
	struct tg_config c;
	char err[512];

	(void)state;
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8080);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.db_pool_size, 4);
	assert_int_equal(c.body_limit, 8388608);
}

/* Each bad value stops with one line that names the setting. */
static void
test_bad_values_name_the_setting(void **state)
{
	static const char *const cases[][2] = {
		{ "TOLLGATE_LISTEN", "8080" },
		{ "TOLLGATE_LISTEN", "localhost:99999" },
		{ "TOLLGATE_LISTEN", "localhost:" },
		{ "TOLLGATE_LOG_LEVEL", "loud" },
		{ "TOLLGATE_DB_POOL_SIZE", "0" },
		{ "TOLLGATE_DB_POOL_SIZE", "65" },
		{ "TOLLGATE_DB_POOL_SIZE", "4x" },
		{ "TOLLGATE_BODY_LIMIT", "" },
		{ "TOLLGATE_BODY_LIMIT", "99999999999999999999" },
	};
	struct tg_config c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		clear_env();
		setenv(cases[i][0], cases[i][1], 1);
		assert_int_equal(config_load(&c, err, sizeof err), -1);
		assert_non_null(strstr(err, cases[i][0]));
		assert_null(strchr(err, '\n'));
	}
	clear_env();
}

static void
test_file_and_environment(void **state)
{
	char path[] = "/tmp/tollgate-config-XXXXXX", err[512];
	struct tg_config c;
	FILE *fp;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("# comment\n\nlisten = 0.0.0.0:9000\nTOLLGATE_DB_POOL_SIZE=8\n"
	    "LOG_LEVEL = warn\n", fp);
	fclose(fp);
	setenv("TOLLGATE_CONFIG", path, 1);
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 9000);
	assert_int_equal(c.db_pool_size, 8);
	assert_int_equal(c.log_level, LOG_WARN);
	/* The environment wins over the file. */
	setenv("TOLLGATE_DB_POOL_SIZE", "2", 1);
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_int_equal(c.db_pool_size, 2);
	/* A bad line names the file, the line and the setting. */
	fp = fopen(path, "w");
	fputs("listen = 127.0.0.1:1\nbody_limit = 12\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "TOLLGATE_BODY_LIMIT"));
	assert_non_null(strstr(err, "line 2"));
	fp = fopen(path, "w");
	fputs("colour = blue\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown setting \"colour\""));
	fp = fopen(path, "w");
	fputs("just words\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected name = value"));
	unlink(path);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "TOLLGATE_CONFIG"));
	clear_env();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_bad_values_name_the_setting, setup),
		cmocka_unit_test_setup(test_file_and_environment, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
