/* Files that hold trust (secfile.c): modes, owners, types, the token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "secfile.h"

/* Every test works in a fresh private directory, removed afterwards. */
static char dir[64];

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/ao-secfile-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/name */
static const char *
at(const char *name)
{
	static char p[2][128];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* Write dir/name with exactly mode (and, when uid is not -1, owner). */
static const char *
mkfile(const char *name, const void *data, size_t len, mode_t mode,
    uid_t uid, gid_t gid)
{
	const char *p = at(name);
	int fd;

	(void)unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	if (uid != (uid_t)-1)
		assert_int_equal(fchown(fd, uid, gid), 0);
	assert_int_equal(close(fd), 0);
	return p;
}

#define NOCHOWN ((uid_t)-1), ((gid_t)-1)

/* The lowest free descriptor: equal before and after means nothing leaked. */
static int
lowest_fd(void)
{
	int fd = open("/", O_PATH | O_CLOEXEC);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0)
			return false;
	return true;
}

#define GUARD_NAME "test_secfile"
#include "guard.h"

static const char *
kind_name(enum ao_file_kind k)
{
	return k == AO_FILE_CONFIG ? "config" : k == AO_FILE_TOKEN ? "token" :
	    k == AO_FILE_CA ? "ca" : "system";
}

/* Modes of files we own (root, or the user running the tests). */
static void
modes_table(void **state)
{
	static const struct {
		mode_t mode;
		enum ao_file_kind kind;
		int want;
	} cases[] = {
		{ 0644, AO_FILE_CONFIG, AO_OK },
		{ 0600, AO_FILE_CONFIG, AO_OK },
		{ 0444, AO_FILE_CONFIG, AO_OK },
		{ 0640, AO_FILE_CONFIG, AO_OK },
		{ 0664, AO_FILE_CONFIG, AO_ERR_PERM },  /* group-writable */
		{ 0620, AO_FILE_CONFIG, AO_ERR_PERM },
		{ 0646, AO_FILE_CONFIG, AO_ERR_PERM },  /* world-writable */
		{ 0666, AO_FILE_CONFIG, AO_ERR_PERM },
		{ 0602, AO_FILE_CONFIG, AO_ERR_PERM },
		{ 0644, AO_FILE_CA, AO_OK },
		{ 0664, AO_FILE_CA, AO_ERR_PERM },
		{ 0646, AO_FILE_CA, AO_ERR_PERM },
		{ 0600, AO_FILE_TOKEN, AO_OK },
		{ 0400, AO_FILE_TOKEN, AO_OK },
		{ 0644, AO_FILE_TOKEN, AO_ERR_PERM },   /* world-readable */
		{ 0604, AO_FILE_TOKEN, AO_ERR_PERM },
		{ 0640, AO_FILE_TOKEN, AO_ERR_PERM },   /* group, gid unknown */
		{ 0660, AO_FILE_TOKEN, AO_ERR_PERM },
		{ 0602, AO_FILE_TOKEN, AO_ERR_PERM },
	};
	size_t i;
	int low = lowest_fd();

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = mkfile("f", "x = 1;\n", 7, cases[i].mode,
		    NOCHOWN);
		char buf[16] = "";
		int fd = 1234, r;

		r = ao_file_open_checked(p, cases[i].kind, (gid_t)-1, &fd);
		if (r != cases[i].want)
			fail_msg("case %zu (%s %04o): got %d, want %d", i,
			    kind_name(cases[i].kind), (unsigned)cases[i].mode,
			    r, cases[i].want);
		if (r != AO_OK) {
			assert_int_equal(fd, -1);
			continue;
		}
		/* the descriptor handed back is the file checked */
		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
		assert_string_equal(buf, "x = 1;\n");
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	assert_int_equal(lowest_fd(), low);
}

/* Not a regular file by the name given: refused, and never waited on. */
static void
not_regular(void **state)
{
	static const enum ao_file_kind kinds[] = { AO_FILE_CONFIG,
	    AO_FILE_TOKEN, AO_FILE_CA, AO_FILE_SYSTEM };
	static const struct { const char *name; int want; } cases[] = {
		{ "link", AO_ERR_PERM },       /* symlink to a good file */
		{ "fifo", AO_ERR_PERM },
		{ "sub", AO_ERR_PERM },        /* a directory */
		{ "missing", AO_ERR_CONFIG },
		{ "nodir/missing", AO_ERR_CONFIG },
	};
	size_t i, k;
	int low;

	(void)state;
	mkfile("good", "k\n", 2, 0600, NOCHOWN);
	assert_int_equal(symlink(at("good"), at("link")), 0);
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	assert_int_equal(mkdir(at("sub"), 0700), 0);
	low = lowest_fd();
	guard();
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *out = (char *)(uintptr_t)1;
			int fd = 1234, r;

			r = ao_file_open_checked(at(cases[i].name), kinds[k],
			    (gid_t)-1, &fd);
			if (r != cases[i].want || fd != -1)
				fail_msg("%s %s: got %d fd %d, want %d",
				    kind_name(kinds[k]), cases[i].name, r, fd,
				    cases[i].want);
			r = ao_file_read_checked(at(cases[i].name), kinds[k],
			    4096, &out, NULL);
			if (r != cases[i].want || out != NULL)
				fail_msg("read %s %s: got %d, want %d",
				    kind_name(kinds[k]), cases[i].name, r,
				    cases[i].want);
		}
	unguard();
	assert_int_equal(lowest_fd(), low);
}

/* As root: a file that is neither root's nor ours is refused but a CA. */
static void
foreign_owner(void **state)
{
	static const struct {
		enum ao_file_kind kind;
		uid_t uid;
		int want;
	} cases[] = {
		{ AO_FILE_CONFIG, 12345, AO_ERR_PERM },
		{ AO_FILE_TOKEN, 12345, AO_ERR_PERM },
		{ AO_FILE_SYSTEM, 12345, AO_ERR_PERM },
		{ AO_FILE_CA, 12345, AO_OK },
		{ AO_FILE_CONFIG, 0, AO_OK },
		{ AO_FILE_TOKEN, 0, AO_OK },
		{ AO_FILE_SYSTEM, 0, AO_OK },
	};
	size_t i;

	(void)state;
	if (geteuid() != 0)
		skip();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = mkfile("f", "x\n", 2, 0600, cases[i].uid,
		    12345);
		int fd = -1, r = ao_file_open_checked(p, cases[i].kind,
		    (gid_t)-1, &fd);

		if (r != cases[i].want)
			fail_msg("case %zu (%s owned by %lu): got %d, want %d",
			    i, kind_name(cases[i].kind),
			    (unsigned long)cases[i].uid, r, cases[i].want);
		if (fd >= 0)
			close(fd);
	}
}

/*
 * A file owned by the (non-root) user running: fine as config, token or CA,
 * never as a system file, which only root may own.  Bit n of the result is
 * set when case n went wrong.
 */
static int
own_file_checks(const char *p)
{
	static const struct { enum ao_file_kind kind; int want; } cases[] = {
		{ AO_FILE_CONFIG, AO_OK },
		{ AO_FILE_TOKEN, AO_OK },
		{ AO_FILE_CA, AO_OK },
		{ AO_FILE_SYSTEM, AO_ERR_PERM },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = -1, r = ao_file_open_checked(p, cases[i].kind,
		    (gid_t)-1, &fd);

		if (r != cases[i].want)
			bad |= 1 << i;
		if (fd >= 0)
			close(fd);
	}
	return bad;
}

static void
system_kind_owner(void **state)
{
	const uid_t nobody = 65534;
	const char *p;
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0) {
		p = mkfile("own", "x\n", 2, 0600, NOCHOWN);
		assert_int_equal(own_file_checks(p), 0);
		return;
	}
	/* as root: check as uid 65534, in a child (the drop is for good) */
	p = mkfile("own", "x\n", 2, 0600, nobody, nobody);
	assert_int_equal(chmod(dir, 0711), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		gid_t g = nobody;

		if (setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 ||
		    setresuid(nobody, nobody, nobody) != 0)
			_exit(100);
		_exit(own_file_checks(p));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("as uid 65534: failed case mask %#x",
		    WEXITSTATUS(st));
}

/* A group-readable token: only for the service user's group. */
static void
token_group(void **state)
{
	struct stat st;
	const char *p;
	gid_t g;
	struct {
		mode_t mode;
		gid_t service_gid;
		int want;
	} cases[] = {
		{ 0640, 0, AO_OK },             /* service_gid set below */
		{ 0440, 0, AO_OK },
		{ 0640, (gid_t)-1, AO_ERR_PERM },
		{ 0640, 1, AO_ERR_PERM },       /* another group: set below */
		{ 0660, 0, AO_ERR_PERM },       /* group-writable, even so */
		{ 0600, (gid_t)-1, AO_OK },
		{ 0600, 1, AO_OK },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ao_secret tok;
		int fd = -1, r;

		/* as root, a realistic token: root:<service group> */
		p = mkfile("token", "tok\n", 4, cases[i].mode,
		    geteuid() == 0 ? 0 : (uid_t)-1, 4242);
		assert_int_equal(stat(p, &st), 0);
		g = st.st_gid;
		if (cases[i].service_gid == 0)
			cases[i].service_gid = g;
		else if (cases[i].service_gid == 1)
			cases[i].service_gid = g + 1;
		r = ao_file_open_checked(p, AO_FILE_TOKEN,
		    cases[i].service_gid, &fd);
		if (r != cases[i].want)
			fail_msg("case %zu (%04o, file gid %lu, service gid "
			    "%ld): got %d, want %d", i, (unsigned)cases[i].mode,
			    (unsigned long)g, (long)(int)cases[i].service_gid,
			    r, cases[i].want);
		if (fd >= 0)
			close(fd);
		/* ao_token_read agrees */
		r = ao_token_read(p, cases[i].service_gid, &tok);
		assert_int_equal(r, cases[i].want);
		if (r == AO_OK)
			assert_string_equal(tok.buf, "tok");
		ao_secret_wipe(&tok);
	}
}

/* What the token file may hold; on every failure the secret is zeroed. */
static void
token_content(void **state)
{
	static const struct {
		const char *text;
		size_t len;             /* 0: strlen(text) */
		const char *want;       /* NULL: AO_ERR_CONFIG */
	} cases[] = {
		{ "abc123", 0, "abc123" },
		{ "abc123\n", 0, "abc123" },
		{ "abc123\r\n", 0, "abc123" },
		{ "abc123   ", 0, "abc123" },
		{ "abc123\t \r\n\n", 0, "abc123" },
		{ "ao_live.Zz-9~!", 0, "ao_live.Zz-9~!" },
		{ "", 0, NULL },                /* empty */
		{ "\n", 0, NULL },
		{ " \r\n\t ", 0, NULL },
		{ "abc 123\n", 0, NULL },       /* a space inside */
		{ " abc123\n", 0, NULL },       /* a leading one */
		{ "abc\t123", 0, NULL },
		{ "abc\001123\n", 0, NULL },    /* a control byte */
		{ "abc\033[2J\n", 0, NULL },
		{ "abc\177\n", 0, NULL },       /* DEL */
		{ "abc\0" "123\n", 8, NULL },   /* a NUL */
		{ "t\xc3\xa9st\n", 0, NULL },   /* not ASCII */
		{ "abc\n123\n", 0, NULL },      /* two lines */
		{ "abc\r123", 0, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		const char *p = mkfile("token", cases[i].text, len, 0600,
		    NOCHOWN);
		struct ao_secret tok;
		int r;

		memset(&tok, 0x5a, sizeof(tok));
		r = ao_token_read(p, (gid_t)-1, &tok);
		if (cases[i].want == NULL) {
			if (r != AO_ERR_CONFIG)
				fail_msg("case %zu accepted (%d)", i, r);
			if (!all_zero(&tok, sizeof(tok)))
				fail_msg("case %zu: secret not wiped", i);
			continue;
		}
		if (r != AO_OK)
			fail_msg("case %zu refused: %d", i, r);
		assert_int_equal(tok.len, strlen(cases[i].want));
		assert_string_equal(tok.buf, cases[i].want);
		ao_secret_wipe(&tok);
		assert_true(all_zero(&tok, sizeof(tok)));
	}
	ao_secret_wipe(NULL);           /* accepted */
}

/* Size limits of the token, and a wiped secret after any refusal. */
static void
token_size_and_wipe(void **state)
{
	static const struct { size_t len; bool newline; int want; } cases[] = {
		{ AO_SECRET_MAX - 3, true, AO_OK },       /* 4094 bytes */
		{ AO_SECRET_MAX - 2, false, AO_OK },      /* 4094 bytes */
		{ AO_SECRET_MAX, false, AO_ERR_CONFIG },
		{ AO_SECRET_MAX + 1, true, AO_ERR_CONFIG },
		{ 3 * AO_SECRET_MAX, false, AO_ERR_CONFIG },
	};
	char *big = malloc(3 * AO_SECRET_MAX + 1);
	struct ao_secret tok;
	const char *p;
	size_t i;

	(void)state;
	assert_non_null(big);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].len;
		int r;

		memset(big, 'k', n);
		if (cases[i].newline)
			big[n++] = '\n';
		p = mkfile("token", big, n, 0600, NOCHOWN);
		memset(&tok, 0x5a, sizeof(tok));
		r = ao_token_read(p, (gid_t)-1, &tok);
		if (r != cases[i].want)
			fail_msg("case %zu (%zu bytes): got %d, want %d", i, n,
			    r, cases[i].want);
		if (r == AO_OK) {
			assert_int_equal(tok.len, cases[i].len);
			assert_int_equal(strspn(tok.buf, "k"), cases[i].len);
			assert_int_equal(tok.buf[tok.len], '\0');
		} else if (!all_zero(&tok, sizeof(tok))) {
			fail_msg("case %zu: secret not wiped", i);
		}
		ao_secret_wipe(&tok);
	}
	free(big);

	/* refusals before anything is read: wiped as well */
	p = mkfile("token", "tok\n", 4, 0644, NOCHOWN);
	memset(&tok, 0x5a, sizeof(tok));
	assert_int_equal(ao_token_read(p, (gid_t)-1, &tok), AO_ERR_PERM);
	assert_true(all_zero(&tok, sizeof(tok)));
	memset(&tok, 0x5a, sizeof(tok));
	assert_int_equal(ao_token_read(at("missing"), (gid_t)-1, &tok),
	    AO_ERR_CONFIG);
	assert_true(all_zero(&tok, sizeof(tok)));
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	memset(&tok, 0x5a, sizeof(tok));
	guard();
	assert_int_equal(ao_token_read(at("fifo"), (gid_t)-1, &tok),
	    AO_ERR_PERM);
	unguard();
	assert_true(all_zero(&tok, sizeof(tok)));
}

/* ao_file_read_fd: all of it up to max, else AO_ERR_DATA and no buffer. */
static void
read_fd_table(void **state)
{
	static const struct { size_t size, max; int want; } cases[] = {
		{ 0, 0, AO_OK },
		{ 0, 10, AO_OK },
		{ 100, 100, AO_OK },
		{ 100, 99, AO_ERR_DATA },
		{ 100, 0, AO_ERR_DATA },
		{ 4094, 4095, AO_OK },          /* around the first buffer */
		{ 4095, 4096, AO_OK },
		{ 4096, 4096, AO_OK },
		{ 4096, 4095, AO_ERR_DATA },
		{ 4097, 4096, AO_ERR_DATA },
		{ 20000, 20000, AO_OK },
		{ 20000, 19999, AO_ERR_DATA },
		{ 20000, 1 << 20, AO_OK },
		{ 100000, 5000, AO_ERR_DATA },
	};
	char *data = malloc(100000);
	size_t i, j;

	(void)state;
	assert_non_null(data);
	for (j = 0; j < 100000; j++)
		data[j] = (char)('a' + j % 26);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = (char *)(uintptr_t)1;
		size_t len = 777;
		int fd, r;

		mkfile("data", data, cases[i].size, 0600, NOCHOWN);
		fd = open(at("data"), O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		r = ao_file_read_fd(fd, cases[i].max, &out, &len);
		close(fd);
		if (r != cases[i].want)
			fail_msg("case %zu (%zu bytes, max %zu): got %d", i,
			    cases[i].size, cases[i].max, r);
		if (r != AO_OK) {
			if (out != NULL)
				fail_msg("case %zu: *out set on failure", i);
			assert_int_equal(len, 777);
			continue;
		}
		assert_non_null(out);
		assert_int_equal(len, cases[i].size);
		assert_memory_equal(out, data, len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
	free(data);
}

/*
 * "at most max bytes": a file of exactly max bytes is read.  Fails for
 * max = 4095 (any 2^k - 1 from 4095 up): the first 4 KiB buffer fills
 * (4095 bytes and the NUL), and it is not grown because cap > max, before
 * the read that would see the end of the file.  No caller passes such a
 * max today (1 MiB, 256 KiB, 4 MiB, 1 GiB).
 */
static void
read_fd_exactly_max(void **state)
{
	char data[4095], *out = NULL;
	size_t len = 0;
	int fd, r;

	(void)state;
	memset(data, 'x', sizeof(data));
	mkfile("data", data, sizeof(data), 0600, NOCHOWN);
	fd = open(at("data"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	r = ao_file_read_fd(fd, sizeof(data), &out, &len);
	close(fd);
	free(out);
	assert_int_equal(r, AO_OK);     /* BUG: AO_ERR_DATA (-6) */
}

/* ao_file_read_fd on a pipe (no size known beforehand); lenp optional. */
static void
read_fd_pipe(void **state)
{
	char *out = NULL;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello\n", 6), 6);
	close(p[1]);
	assert_int_equal(ao_file_read_fd(p[0], 64, &out, NULL), AO_OK);
	close(p[0]);
	assert_string_equal(out, "hello\n");
	free(out);
}

/* ao_file_read_checked: the checks of open_checked, then the size limit. */
static void
read_checked(void **state)
{
	char *out = NULL;
	size_t len = 0;
	const char *p;

	(void)state;
	p = mkfile("conf", "user = \"x\";\n", 12, 0644, NOCHOWN);
	assert_int_equal(ao_file_read_checked(p, AO_FILE_CONFIG, 1 << 20, &out,
	    &len), AO_OK);
	assert_int_equal(len, 12);
	assert_string_equal(out, "user = \"x\";\n");
	free(out);

	out = (char *)(uintptr_t)1;
	assert_int_equal(ao_file_read_checked(p, AO_FILE_CONFIG, 11, &out,
	    &len), AO_ERR_DATA);
	assert_null(out);

	p = mkfile("conf", "user = \"x\";\n", 12, 0664, NOCHOWN);
	out = (char *)(uintptr_t)1;
	assert_int_equal(ao_file_read_checked(p, AO_FILE_CONFIG, 1 << 20, &out,
	    &len), AO_ERR_PERM);
	assert_null(out);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(modes_table),
		T(not_regular),
		T(foreign_owner),
		T(system_kind_owner),
		T(token_group),
		T(token_content),
		T(token_size_and_wipe),
		T(read_fd_table),
		T(read_fd_exactly_max),
		T(read_fd_pipe),
		T(read_checked),
	};

	return cmocka_run_group_tests_name("secfile", tests, NULL, NULL);
}
