/*
 * relpsend: test-only RELP client that sends what a compromised relay host
 * could send, byte for byte: standard input, as one syslog message, over
 * TLS with the given client certificate.  Never shipped.
 *
 *   relpsend HOST PORT CA_FILE CERT_FILE KEY_FILE < message
 *
 * Exit 0 once the collector has answered the session's close (so it has
 * answered the message), 1 otherwise.
 */
#include <signal.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librelp.h>

static int failed;

static void
no_debug(char *fmt, ...)
{
	(void)fmt;
}

static void
on_err(void *usr, char *obj, char *msg, relpRetVal err)
{
	(void)usr;
	(void)obj;
	fprintf(stderr, "relpsend: %s (%d)\n", msg, (int)err);
	failed = 1;
}

int
main(int argc, char **argv)
{
	unsigned char syslog_cmd[] = "syslog";
	char mode[] = "name";
	static unsigned char msg[65536];
	relpEngine_t *eng = NULL;
	relpClt_t *clt = NULL;
	size_t len;

	if (argc != 6) {
		fprintf(stderr, "usage: relpsend HOST PORT CA CERT KEY < msg\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	len = fread(msg, 1, sizeof(msg), stdin);
	if (relpEngineConstruct(&eng) != RELP_RET_OK ||
	    relpEngineSetDbgprint(eng, no_debug) != RELP_RET_OK ||
	    relpEngineSetEnableCmd(eng, syslog_cmd, eRelpCmdState_Required) !=
	    RELP_RET_OK ||
	    relpEngineSetOnErr(eng, on_err) != RELP_RET_OK ||
	    relpEngineCltConstruct(eng, &clt) != RELP_RET_OK ||
	    relpCltSetTimeout(clt, 10) != RELP_RET_OK ||
	    relpCltEnableTLS(clt) != RELP_RET_OK ||
	    relpCltSetCACert(clt, argv[3]) != RELP_RET_OK ||
	    relpCltSetOwnCert(clt, argv[4]) != RELP_RET_OK ||
	    relpCltSetPrivKey(clt, argv[5]) != RELP_RET_OK ||
	    relpCltSetAuthMode(clt, mode) != RELP_RET_OK ||
	    relpCltAddPermittedPeer(clt, argv[1]) != RELP_RET_OK ||
	    relpCltConnect(clt, AF_UNSPEC, (unsigned char *)argv[2],
	    (unsigned char *)argv[1]) != RELP_RET_OK ||
	    relpCltSendSyslog(clt, msg, len) != RELP_RET_OK) {
		fprintf(stderr, "relpsend: could not send\n");
		failed = 1;
	}
	if (clt != NULL)
		(void)relpEngineCltDestruct(eng, &clt);
	if (eng != NULL)
		(void)relpEngineDestruct(&eng);
	return failed;
}
