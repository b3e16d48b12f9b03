# Sourced by .ci/run: a supported Node first on the PATH. switchboard supports the LTS lines 22 and 24
# (package.json engines); a machine whose own node is older gets Node 24 — the image's
# (deploy/Dockerfile) and the one `npm run bench` quotes — from the npm registry's `node` package (a
# real node binary in node_modules/node/bin), installed once into $SWITCHBOARD_CI_NODE_PREFIX
# (default /opt/node24), so npm ci and npm test run on it.
ci_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(ci_node_major)" -lt 22 ]; then
  ci_node_prefix="${SWITCHBOARD_CI_NODE_PREFIX:-/opt/node24}"
  if ! "$ci_node_prefix/node_modules/node/bin/node" -v >/dev/null 2>&1; then
    echo "node $(node -v 2>/dev/null || echo '(none)') is older than 22: installing node@24 into $ci_node_prefix"
    npm install --prefix "$ci_node_prefix" --no-audit --no-fund --no-save node@24
  fi
  export PATH="$ci_node_prefix/node_modules/node/bin:$PATH"
  if [ "$(ci_node_major)" -lt 22 ]; then
    echo "node@24 from the npm registry did not give a working node in $ci_node_prefix" >&2
    exit 1
  fi
fi
echo "node $(node -v)"
