#include "core/password.h"
#include "core/err.h"
#include "core/util.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_busy;

static void sodium_setup(void)
{
	sodium_ok = sodium_init() >= 0;
}

static int ready(void)
{
	pthread_once(&sodium_once, sodium_setup);
	return sodium_ok;
}

static void gate_enter(void)
{
	pthread_mutex_lock(&gate_mu);
	while (gate_busy >= PASSWORD_MAX_CONCURRENT)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate_busy++;
	pthread_mutex_unlock(&gate_mu);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_busy--;
	pthread_cond_signal(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

int password_hash(const char *pw, char **out)
{
	char str[crypto_pwhash_STRBYTES];
	size_t len;
	int rc;

	*out = NULL;
	if (!pw || (len = strlen(pw)) > PASSWORD_MAX_BYTES)
		return KE_INVALID;
	if (!ready())
		return KE_INTERNAL;
	gate_enter();
	rc = crypto_pwhash_str(str, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			       crypto_pwhash_MEMLIMIT_INTERACTIVE);
	gate_leave();
	/* the only runtime failure is the work area's allocation */
	if (rc)
		return KE_NOMEM;
	*out = strdup(str);
	return *out ? 0 : KE_NOMEM;
}

int password_verify(const char *hash, const char *pw)
{
	size_t len;
	int rc;

	if (!hash || !pw || strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES ||
	    (len = strlen(pw)) > PASSWORD_MAX_BYTES || !ready())
		return 0;
	gate_enter();
	rc = crypto_pwhash_str_verify(hash, pw, len);
	gate_leave();
	return rc == 0;
}

int password_generate(char **out)
{
	unsigned char raw[PASSWORD_GENERATED_LEN / 4 * 3];
	int rc;

	*out = NULL;
	rc = util_random_bytes(raw, sizeof(raw));
	if (!rc) {
		*out = util_b64url_encode(raw, sizeof(raw));
		rc = *out ? 0 : KE_NOMEM;
	}
	sodium_memzero(raw, sizeof(raw));
	return rc;
}
