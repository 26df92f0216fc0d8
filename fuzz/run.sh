#!/usr/bin/env bash
# Builds the libFuzzer targets into build-fuzz/ and runs each for FUZZ_SECONDS
# (default 60). Exits non-zero when a target crashes or fails to build.
set -euo pipefail

cd "$(dirname "$0")/.."
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
OUT=build-fuzz
CORPUS="$OUT/corpus"
mkdir -p "$OUT" "$CORPUS"

# shellcheck disable=SC2046  # pkg-config output is meant to split into flags
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
	fuzz/fuzz_admission.c src/core/*.c src/model/*.c \
	$(pkg-config --cflags --libs jansson yaml-0.1 libcrypto libsodium md4c) \
	-o "$OUT/fuzz_admission"

# A few small seeds: valid objects of several kinds, YAML streams, near misses.
printf '%s' '{"apiVersion":"krate.a5c.ai/v1alpha1","kind":"Repository","metadata":{"name":"web","labels":{"team":"a"}},"spec":{"visibility":"private","organizationRef":"demo"}}' >"$CORPUS/repo.json"
printf '%s' '{"kind":"Organization","metadata":{"name":"acme"},"spec":{"displayName":"Acme"}}' >"$CORPUS/org.json"
printf '%s' '[{"kind":"OrgNamespaceBinding","spec":{"organizationRef":"acme"}},{"kind":"pr","metadata":{"name":"p1","namespace":"krate-org-acme"},"spec":{"repository":"web","title":"Fix"}}]' >"$CORPUS/array.json"
printf '%s' '{"kind":"Repository","metadata":{"name":"../x","namespace":"krate-org-other"},"spec":{"visibility":"secret"},"status":[]}' >"$CORPUS/bad.json"
cat >"$CORPUS/stack.yaml" <<'YAML'
apiVersion: krate.a5c.ai/v1alpha1
kind: AgentStack
metadata:
  name: ci-repair
  labels:
    krate.a5c.ai/org: demo
spec:
  baseAgent: claude-code
  adapter: mux
  runtimeIdentity:
    serviceAccountRef: agent-ci
  approvalMode: policy
YAML
cat >"$CORPUS/stream.yaml" <<'YAML'
kind: RunnerPool
metadata: {name: linux}
spec: {warmReplicas: 1, maxReplicas: "4", trustTier: trusted}
---
kind: atr
metadata:
  name: on-fail
spec:
  sources: [ci]
  agentStack: ci-repair
  taskKind: ci-repair
  lifecycleState: active
  contextBundleTemplate: {maxBytes: 750000, redactSecrets: true}
---
kind: PolicyTemplate
metadata: {name: no-latest, namespace: krate-system}
spec: {displayName: No latest, targetKinds: [Pod], kyverno: {}}
YAML

"$OUT/fuzz_admission" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=10 \
	-artifact_prefix="$OUT/" "$CORPUS"
