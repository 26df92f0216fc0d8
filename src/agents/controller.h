/* The stack controller: one thread that keeps every AgentStack's status true.
 *
 * For an org it takes a fresh snapshot (agents_snapshot), evaluates each
 * stack (readiness_eval) and adds observedGeneration (the stack's
 * generation) to the status and to each condition, and lastTransitionTime to
 * each condition (kept from the stored condition of the same type while its
 * status stays the same). A stack whose status would change gets one
 * STORE_OP_STATUS_MERGE, guarded by its resourceVersion and audited as actor
 * system:agents, verb status; an unchanged one is not written.
 *
 * Every stack of an org is evaluated at start and whenever an object of that
 * org changes whose kind is of category agent-config or identity (Secret and
 * ConfigMap included), or is a RunnerPool or RefPolicy. Requests are coalesced
 * per org; past CONTROLLER_PENDING_MAX pending orgs every org is evaluated.
 *
 * Ownership: borrows the store, which must outlive the controller. */
#ifndef KRATE_AGENTS_CONTROLLER_H
#define KRATE_AGENTS_CONTROLLER_H

#include "core/err.h"
#include "store/store.h"

#define CONTROLLER_PENDING_MAX 1024
#define CONTROLLER_ACTOR "system:agents"

struct agents_controller;

int agents_controller_start(struct store *s, struct agents_controller **out, struct kerr *e);
/* store_event_fn (the writer thread): queues the event's org when its kind matters; never blocks on a write. */
void agents_controller_on_event(const struct store_event *ev, void *c);
/* Stops the thread after the evaluation in progress and frees c (before store_close). NULL is fine. */
void agents_controller_stop(struct agents_controller *c);

#endif
