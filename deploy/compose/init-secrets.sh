#!/bin/sh
# Writes the secrets the Compose stack mounts (deploy/compose/secrets/, git-ignored, 0600):
#   grafana-admin-password             Grafana's admin password (random)
#   collector-pseudonymisation-secret  key of the collector's respondent pseudonyms (random)
#   collector-integrations.json        one native-API integration for NETWORK, all sites
#   reporter-evidence-signing-key.pem  Ed25519 key signing the evidence chain's heads
#   console-session-secret             key of the console's encrypted session cookie (random)
#   console-oidc-client-secret         the console's OIDC client secret: written empty (public
#                                      client, PKCE); put the identity provider's value in it
#   surveys-contacts-key               Fernet key encrypting contact details at rest (random)
#   surveys-opt-out-secret             key signing the opt-out links of survey e-mails (random)
#   surveys-smtp-password              the SMTP relay's password: written empty (no sign-in)
# and prints the integration's API key once: it is stored only as its SHA-256.
# Existing files are kept (a new pseudonymisation key would change every pseudonym, a new
# contacts key would make the stored addresses unreadable); delete a file to have it
# written anew.
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
if [ ! -s "$dir/console-session-secret" ]; then
  # The same on every console replica; a new one signs everybody out.
  random 32 > "$dir/console-session-secret"
  echo "init-secrets: console session key written"
fi
if [ ! -e "$dir/console-oidc-client-secret" ]; then
  : > "$dir/console-oidc-client-secret"
  echo "init-secrets: console OIDC client secret left empty (public client): fill it for a confidential one"
fi
if [ ! -s "$dir/surveys-contacts-key" ]; then
  # A Fernet key: 32 random bytes, URL-safe base64. Losing it loses every stored address.
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n' > "$dir/surveys-contacts-key"
  echo "init-secrets: surveys contacts key written (back it up: stored addresses need it)"
fi
if [ ! -s "$dir/surveys-opt-out-secret" ]; then
  random 32 > "$dir/surveys-opt-out-secret"
  echo "init-secrets: surveys opt-out link key written"
fi
if [ ! -e "$dir/surveys-smtp-password" ]; then
  : > "$dir/surveys-smtp-password"
  echo "init-secrets: SMTP password left empty (relay without sign-in): fill it if yours needs one"
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
