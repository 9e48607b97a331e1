#!/usr/bin/env bash
# Every registry call of the workflows, in one place.
#   scripts/registry.sh champion DIR        download the current champion into DIR (nothing if none)
#   scripts/registry.sh register            register model/ with MODEL_CARD.md; prints the version
#   scripts/registry.sh promote VERSION     promote VERSION to the champion alias (four-eyes)
# MODEL_NAME (default: the package name) and MLFLOW_TRACKING_URI come from the environment.
set -euo pipefail

name="${MODEL_NAME:?set MODEL_NAME}"

case "${1:-}" in
  champion)
    dir="${2:?usage: registry.sh champion DIR}"
    rm -rf "$dir"
    if uniml registry download "models:/${name}@champion" "$dir"; then
      echo "champion downloaded to $dir"
    else
      echo "no champion yet for ${name}: the gate runs without it"
      rm -rf "$dir"
    fi
    ;;
  register)
    uniml registry register model "$name" --card MODEL_CARD.md | tee register.log
    version="$(grep -Eo '[0-9]+' register.log | tail -n 1)"
    echo "version=${version}" >> "${GITHUB_OUTPUT:-/dev/null}"
    ;;
  promote)
    version="${2:?usage: registry.sh promote VERSION}"
    # the reviewer who approved this run's environment is the approver; the registry refuses
    # an approver who is also the registrant (four eyes)
    approver="$(gh api "repos/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/approvals" \
      --jq '[.[] | select(.state == "approved")] | last | .user.login')"
    uniml registry promote "$name" "$version" --alias champion \
      --approver "${approver:?no approval found for this run}" \
      --reason "release-model run ${GITHUB_RUN_ID} approved in the model-approval environment"
    ;;
  *)
    echo "usage: registry.sh champion DIR | register | promote VERSION" >&2
    exit 2
    ;;
esac
