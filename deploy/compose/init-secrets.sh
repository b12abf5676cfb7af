#!/bin/sh
# Writes the secrets the Compose stack mounts (deploy/compose/secrets/, git-ignored, 0600):
#   grafana-admin-password             Grafana's admin password (random)
#   collector-pseudonymisation-secret  key of the collector's respondent pseudonyms (random)
#   collector-integrations.json        one native-API integration for NETWORK, all sites
#   reporter-evidence-signing-key.pem  Ed25519 key signing the evidence chain's heads
# and prints the integration's API key once: it is stored only as its SHA-256.
# Existing files are kept (a new pseudonymisation key would change every pseudonym);
# delete a file to have it written anew.
#
#   deploy/compose/init-secrets.sh [NETWORK]    (default: reseau-local)
set -eu

network="${1:-reseau-local}"
case "$network" in
  *[!A-Za-z0-9._:-]*|"") echo "init-secrets: '$network' is not a valid network id" >&2; exit 64 ;;
esac
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
umask 077
mkdir -p "$dir"

random() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

if [ ! -s "$dir/grafana-admin-password" ]; then
  random 18 > "$dir/grafana-admin-password"
  echo "init-secrets: Grafana admin password written to $dir/grafana-admin-password"
fi
if [ ! -s "$dir/collector-pseudonymisation-secret" ]; then
  random 32 > "$dir/collector-pseudonymisation-secret"
  echo "init-secrets: pseudonymisation key written"
fi
if [ ! -s "$dir/reporter-evidence-signing-key.pem" ]; then
  # The reporter signs its evidence chain's heads with it; keep its public key (the reporter
  # serves it) with the dossiers it signed, to verify them after a rotation.
  openssl genpkey -algorithm ed25519 -out "$dir/reporter-evidence-signing-key.pem"
  echo "init-secrets: evidence signing key written"
fi
if [ ! -s "$dir/collector-integrations.json" ]; then
  key="$(random 24)"
  digest="$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)"
  cat > "$dir/collector-integrations.json" <<JSON
{
  "integrations": [
    {
      "id": "api-$network",
      "platform": "api",
      "network_id": "$network",
      "sites": ["*"],
      "api_keys": [{"id": "init", "sha256": "$digest"}]
    }
  ]
}
JSON
  echo "init-secrets: integration api-$network written; its API key (shown once, keep it):"
  echo "  $key"
fi
