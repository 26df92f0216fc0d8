/* POST /api/users: console users, created by admins (an org-bound admin only
 * for its own org). A generated password is returned once, in the answer. */
#include "api/api_internal.h"
#include "api/session.h"
#include "core/password.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

int h_user_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *req = json_loadb(body, len, 0, NULL), *pw_v, *org_v, *info;
	const char *name = NULL, *org = NULL, *role_s, *password = NULL, *problem;
	struct kerr e = KERR_INIT;
	struct buf res = BUF_INIT(512);
	char *generated = NULL;
	int role, rc;

	(void)m;
	if (!json_is_object(req)) {
		kerr_set(&e, KE_INVALID, "INVALID_JSON", "body must be a JSON object {name, password?, role, org?}");
		goto deny;
	}
	name = json_string_value(json_object_get(req, "name"));
	org_v = json_object_get(req, "org");
	org = json_string_value(org_v);
	role_s = json_string_value(json_object_get(req, "role"));
	role = kinds_role_parse(role_s ? role_s : "");
	pw_v = json_object_get(req, "password");
	if (!name || !util_dns_label(name))
		kerr_add_reason(&e, "InvalidValue", "name", "name must be a DNS-1123 label");
	if (role == ROLE_NONE)
		kerr_add_reason(&e, "InvalidValue", "role", "role must be viewer, developer or admin");
	if (org_v && !json_is_null(org_v) && (!org || !util_dns_label(org)))
		kerr_add_reason(&e, "InvalidValue", "org", "org must be an organization slug");
	if (pw_v && !json_is_null(pw_v)) {
		password = json_string_value(pw_v);
		problem = password ? session_password_problem(password) : "the password must be a string";
		if (problem)
			kerr_add_reason(&e, "InvalidValue", "password", "%s", problem);
	}
	if (e.reasons) {
		kerr_set(&e, KE_UNPROCESSABLE, "INVALID_USER_REQUEST", "invalid user request");
		goto deny;
	}
	if (p->role < ROLE_ADMIN) {
		kerr_set(&e, KE_FORBIDDEN, NULL, "only admins may create users");
		goto deny;
	}
	if (p->org && (!org || strcmp(org, p->org))) {
		kerr_set(&e, KE_FORBIDDEN, NULL, "an org-bound admin may only create users of its own org");
		goto deny;
	}
	if (org && api_org_check(a, p, org, &e))
		goto deny;
	if (!password) {
		if (password_generate(&generated)) {
			api_failf(r, KE_INTERNAL, NULL, "cannot generate a password");
			goto out;
		}
		password = generated;
	}
	/* Rare, and the hash dominates: waiting for the commit here keeps it simple. */
	rc = session_user_create(a->store, name, password, role, org, p->user, &e);
	if (rc) {
		api_fail(r, &e);
		goto out;
	}
	info = json_pack("{s:s, s:s, s:s?}", "name", name, "role", kinds_role_name(role), "org", org);
	if (info && generated)
		json_object_set_new(info, "password", json_string(generated));
	http_respond_json(r, 201, info);
	goto out;
deny:
	if (name && util_dns_label(name))
		buf_printf(&res, "User/%s", name);
	rc = write_deny(a, r, p, "user.create", org, res.data ? res.data : "User", &e);
	buf_free(&res);
	json_decref(req);
	kerr_clear(&e);
	return rc;
out:
	if (generated) {
		memset(generated, 0, strlen(generated));
		free(generated);
	}
	json_decref(req);
	kerr_clear(&e);
	return HTTP_DONE;
}
