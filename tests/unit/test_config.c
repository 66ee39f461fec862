#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "secfile.h"

static int
parse(const char *text, struct ao_config *cfg, char *err, size_t errsz)
{
	assert_int_equal(ao_config_defaults(cfg), AO_OK);
	return ao_config_parse(cfg, "test.conf", text, err, errsz);
}

static void
defaults(void **state)
{
	struct ao_config c;
	char err[512];

	(void)state;
	assert_int_equal(parse("", &c, err, sizeof(err)), AO_OK);
	assert_string_equal(c.api_url, "https://api.accessowl.com");
	assert_string_equal(c.token_file, "/etc/accessowl/token");
	assert_string_equal(c.ca_file, "");
	assert_int_equal(c.timeout, 10);
	assert_int_equal(c.spread, 30);
	assert_false(c.gecos_email);   /* users may change parts of GECOS */
	assert_int_equal(c.gecos_domains.n, 0);
	assert_true(ao_config_event_on(&c, AO_EV_LOCKED));
	assert_true(ao_config_event_on(&c, AO_EV_EXPIRED));
	assert_true(ao_config_event_on(&c, AO_EV_DELETED));
	assert_true(ao_config_event_on(&c, AO_EV_MANUAL));
	assert_false(ao_config_event_on(&c, AO_EV_FAILLOCK));
	assert_false(ao_config_event_on(&c, AO_EV_NOLOGIN));
	assert_int_equal(c.min_uid, 1000);
	assert_int_equal(c.exclude.n, 1);
	assert_string_equal(c.exclude.v[0], "root");
	assert_string_equal(c.spool_dir, "/var/spool/accessowl");
	assert_string_equal(c.state_dir, "/var/lib/accessowl");
	assert_string_equal(c.user, "accessowl");
	ao_config_free(&c);
}

/* The shipped sample must parse and must equal the built-in defaults. */
static void
sample_is_defaults(void **state)
{
	struct ao_config c, d;
	char *text = NULL, err[512];

	(void)state;
	assert_int_equal(ao_file_read_checked("conf/accessowl.conf",
	    AO_FILE_CA, 1 << 20, &text, NULL), AO_OK);
	assert_int_equal(parse(text, &c, err, sizeof(err)), AO_OK);
	assert_int_equal(ao_config_defaults(&d), AO_OK);
	assert_string_equal(c.api_url, d.api_url);
	assert_string_equal(c.token_file, d.token_file);
	assert_string_equal(c.ca_file, d.ca_file);
	assert_int_equal(c.timeout, d.timeout);
	assert_int_equal(c.spread, d.spread);
	assert_string_equal(c.email_domain, d.email_domain);
	assert_int_equal(c.gecos_email, d.gecos_email);
	assert_int_equal(c.gecos_domains.n, d.gecos_domains.n);
	assert_int_equal(c.nmap, 0);
	assert_int_equal(c.applications.n, 0);
	assert_memory_equal(c.events, d.events, sizeof(c.events));
	assert_int_equal(c.min_uid, d.min_uid);
	assert_int_equal(c.exclude.n, d.exclude.n);
	assert_string_equal(c.spool_dir, d.spool_dir);
	assert_string_equal(c.state_dir, d.state_dir);
	assert_string_equal(c.user, d.user);
	/* the relay group is shown commented out: a plain host files */
	assert_false(c.relay);
	assert_int_equal(c.relay_tls, d.relay_tls);
	assert_int_equal(c.relay_timeout, d.relay_timeout);
	assert_int_equal(c.collector_hosts.n, 0);
	assert_int_equal(c.collector_people_per_hour,
	    d.collector_people_per_hour);
	assert_int_equal(c.keep_delivered_days, 90);
	assert_int_equal(c.keep_delivered_days, d.keep_delivered_days);
	ao_config_free(&c);
	ao_config_free(&d);
	free(text);
}

/* A relay host: the relay group and no api group. */
static void
relay(void **state)
{
	static const struct { const char *text, *host, *port; } ok[] = {
		{ "relay: { url = \"relp://collector.example:2514\";\n"
		  "  ca_file = \"/c/ca.pem\"; cert_file = \"/c/h.pem\";\n"
		  "  key_file = \"/c/h.key\"; timeout = 7; };",
		  "collector.example", "2514" },
		{ "relay: { url = \"relp://c.example\"; tls = false; };",
		  "c.example", "2514" },
		{ "relay: { url = \"relp://[::1]:10514\"; tls = false; };",
		  "::1", "10514" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct ao_config c;
		char err[512];

		if (parse(ok[i].text, &c, err, sizeof(err)) != AO_OK)
			fail_msg("case %zu refused: %s", i, err);
		assert_true(c.relay);
		assert_string_equal(c.relay_host, ok[i].host);
		assert_string_equal(c.relay_port, ok[i].port);
		if (i == 0) {
			assert_true(c.relay_tls); /* the default */
			assert_int_equal(c.relay_timeout, 7);
			assert_string_equal(c.relay_key_file, "/c/h.key");
		} else {
			assert_false(c.relay_tls);
		}
		ao_config_free(&c);
	}
}

static void
collector(void **state)
{
	struct ao_config c;
	char err[512];

	(void)state;
	assert_int_equal(parse("collector: { hosts = [ \"*.prod.example\", "
	    "\"bastion\" ]; };", &c, err, sizeof(err)), AO_OK);
	assert_false(c.relay);
	assert_int_equal(c.collector_hosts.n, 2);
	assert_string_equal(c.collector_hosts.v[0], "*.prod.example");
	assert_int_equal(c.collector_people_per_hour, 50);   /* the default */
	ao_config_free(&c);
	assert_int_equal(parse("collector: { sender_people_per_hour = 0; };",
	    &c, err, sizeof(err)), AO_OK);
	assert_int_equal(c.collector_people_per_hour, 0);
	ao_config_free(&c);
}

static void
full(void **state)
{
	struct ao_config c;
	char err[512];
	static const char text[] =
	    "api: { url = \"https://127.0.0.1:8443/\"; timeout = 3;\n"
	    "  token_file = \"/tmp/t\"; ca_file = \"/tmp/ca.pem\"; };\n"
	    "identity: { email_domain = \"example.com\"; gecos_email = true;\n"
	    "  gecos_domains = [ \"example.com\", \"Corp.Example.org\" ];\n"
	    "  map = ( { user = \"alice\"; email = \"alice.smith@example.com\"; },\n"
	    "          { user = \"bob\"; email = \"b@example.org\"; } ); };\n"
	    "scope: { applications = [ \"app-1\", \"app-2\" ]; };\n"
	    "events: { faillock = true; deleted = false; };\n"
	    "accounts: { min_uid = 500; exclude = [ \"root\", \"svc\" ]; };\n"
	    "paths: { spool_dir = \"/s\"; state_dir = \"/t\"; };\n"
	    "user = \"nobody\";\n";

	(void)state;
	assert_int_equal(parse(text, &c, err, sizeof(err)), AO_OK);
	assert_string_equal(c.api_url, "https://127.0.0.1:8443"); /* slash cut */
	ao_config_free(&c);
	/* the API's own prefix, pasted from its reference: the base is kept */
	assert_int_equal(parse("api: { url = \"https://api.example.com/api/v1/\";"
	    " };", &c, err, sizeof(err)), AO_OK);
	assert_string_equal(c.api_url, "https://api.example.com");
	ao_config_free(&c);
	assert_int_equal(parse(text, &c, err, sizeof(err)), AO_OK);
	assert_int_equal(c.timeout, 3);
	assert_string_equal(c.ca_file, "/tmp/ca.pem");
	assert_true(c.gecos_email);
	assert_int_equal(c.gecos_domains.n, 2);
	assert_int_equal(c.nmap, 2);
	assert_string_equal(c.map[1].user, "bob");
	assert_string_equal(c.map[1].email, "b@example.org");
	assert_int_equal(c.applications.n, 2);
	assert_true(ao_strlist_has(&c.applications, "app-2"));
	assert_false(ao_strlist_has(&c.applications, "app-3"));
	assert_true(ao_config_event_on(&c, AO_EV_FAILLOCK));
	assert_false(ao_config_event_on(&c, AO_EV_DELETED));
	assert_true(ao_config_event_on(&c, AO_EV_LOCKED));
	assert_int_equal(c.min_uid, 500);
	assert_int_equal(c.exclude.n, 2);
	assert_string_equal(c.user, "nobody");
	ao_config_free(&c);
}

/* Every bad config names file and line and says what is wrong. */
static void
errors_table(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "api: { urll = \"https://x\"; };", "test.conf:1: unknown key 'api.urll'" },
		{ "\n\nbogus = 1;", "test.conf:3: unknown key 'bogus'" },
		{ "api: { timeout = \"10\"; };", "test.conf:1: api.timeout must be a whole number" },
		{ "api: { timeout = 0; };", "api.timeout = 0 is out of range (1 to 300)" },
		{ "api: { timeout = 301; };", "out of range" },
		{ "api: { spread = -1; };", "api.spread = -1 is out of range (0 to 3600)" },
		{ "api = 1;", "test.conf:1: api must be a group" },
		{ "events: { locked = 1; };", "events.locked must be true or false" },
		{ "events: { manual = false; };", "unknown key 'events.manual'" },
		{ "events: { lockd = true; };", "test.conf:1: unknown key 'events.lockd'" },
		{ "events = true;", "events must be a group" },
		{ "accounts: { min_uid = -1; };", "accounts.min_uid = -1 is out of range" },
		{ "accounts: { exclude = [ 1 ]; };", "accounts.exclude" },
		{ "accounts: { exclude = [ \"\" ]; };", "element 1 is empty" },
		{ "api: { url = \"http://api.example.com\"; };", "api.url must start with https://" },
		{ "api: { url = \"https://\"; };", "api.url has no host name" },
		{ "api: { url = \"https://u@h\"; };", "plain https://host[:port]" },
		{ "api: { token_file = \"token\"; };", "api.token_file must be an absolute path" },
		{ "api: { ca_file = \"ca.pem\"; };", "api.ca_file must be an absolute path" },
		{ "paths: { spool_dir = \"spool\"; };", "must be absolute paths" },
		{ "user = \"\";", "user must name the service user" },
		{ "identity: { email_domain = \"@x.com\"; };", "bare domain" },
		{ "identity: { gecos_email = true; };", "gecos_email = true needs identity.gecos_domains" },
		{ "identity: { gecos_email = true; gecos_domains = [ ]; };", "needs identity.gecos_domains" },
		{ "identity: { gecos_domains = [ \"a@example.com\" ]; };", "\"a@example.com\" is not a bare domain" },
		{ "identity: { gecos_domains = [ \"localhost\" ]; };", "is not a bare domain" },
		{ "identity: { map = ( { user = \"a\"; } ); };", "entry 1 (user a) needs an email" },
		{ "identity: { map = ( { email = \"a@b.c\"; } ); };", "entry 1 has no user" },
		{ "identity: { map = ( { user = \"a\"; email = \"a@b.c\"; x = 1; } ); };", "unknown key 'x'" },
		{ "identity: { map = ( \"a\" ); };", "entry 1 must be" },
		{ "api: { url = ; };", "test.conf:1: syntax error" },
		/* the docs' dotted names, typed as they are written */
		{ "api: { timeout = 3; };\nevents.faillock = true;",
		  "test.conf:2: `events.faillock` is not a name here: a setting "
		  "is written inside its group, as in events: { faillock = ...; "
		  "};" },
		{ "events: { locked = true; };\n  events.deleted: false;",
		  "test.conf:2: `events.deleted` is not a name here" },
		/* what is left open is named, not just where parsing gave up */
		{ "api: { timeout = 3; };\nidentity: {\n  email_domain = "
		  "\"example.com;\n};\nuser = \"nobody\";\npaths: { };\n",
		  "the string opened at line 3 has no closing \"" },
		{ "api: { timeout = 3;\n# a comment {\nidentity: {\n"
		  "  email_domain = \"x.org\"; // {\n};\nuser = \"nobody\";\n",
		  "the group `api` opened at line 1 is still open here: a "
		  "missing `};`?" },
		{ "@include \"/etc/passwd\"\n", "@include is not supported" },
		{ "api: { timeout = 3; };\nrelay: { url = \"relp://c.example\"; "
		  "tls = false; };", "test.conf:1: a relay host forwards its "
		  "events to the collector, which alone holds the token" },
		{ "relay: { url = \"tcp://c.example:2514\"; tls = false; };",
		  "relay.url must look like \"relp://collector.example:2514\"" },
		{ "relay: { url = \"relp://c.example:0\"; tls = false; };",
		  "the port must be a number from 1 to 65535" },
		{ "relay: { url = \"relp://c.example:x\"; tls = false; };",
		  "the port must be" },
		{ "relay: { url = \"relp://\"; tls = false; };", "has no host name" },
		{ "relay: { url = \"relp://c.example/x\"; tls = false; };",
		  "without path" },
		{ "relay: { url = \"relp://[::1\"; tls = false; };", "without ']'" },
		{ "relay: { url = \"relp://c.example\"; };",
		  "relay.tls = true (the default) needs relay.ca_file" },
		{ "relay: { url = \"relp://c.example\"; ca_file = \"/ca\"; "
		  "cert_file = \"/c\"; key_file = \"k\"; };", "each an absolute path" },
		{ "relay: { url = \"relp://c.example\"; tls = false; "
		  "ca_file = \"ca\"; };", "must be absolute paths or \"\"" },
		{ "relay: { url = \"relp://c.example\"; tls = false; timeout = 0; };",
		  "relay.timeout = 0 is out of range" },
		{ "relay: { token_file = \"/t\"; };", "unknown key 'relay.token_file'" },
		{ "collector: { hosts = [ \"a b\" ]; };", "collector.hosts: \"a b\"" },
		{ "paths: { keep_delivered_days = -1; };",
		  "paths.keep_delivered_days = -1 is out of range" },
		{ "collector: { sender_people_per_hour = 1001; };",
		  "collector.sender_people_per_hour = 1001 is out of range" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ao_config c;
		char err[512];

		if (parse(cases[i].text, &c, err, sizeof(err)) != AO_ERR_CONFIG)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err,
			    cases[i].want);
		ao_config_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(sample_is_defaults),
		cmocka_unit_test(full),
		cmocka_unit_test(relay),
		cmocka_unit_test(collector),
		cmocka_unit_test(errors_table),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
