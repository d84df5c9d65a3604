#!/usr/bin/env bash
# lint.sh — check the Swift sources' style with the toolchain's swift-format (`swift format`, Swift 6+).
#
# Config: .swift-format at the repository root (JSON, so its reasons live here):
#   - 4-space indentation, 120-column lines; every other setting is swift-format's default.
#   - off: AlwaysUseLowerCamelCase   (HTTP tokens keep their spelling: HTTPMethod.GET, HTTPVersion.http1_1)
#          NeverForceUnwrap, NeverUseForceTry      (`!`/`try!` on proven invariants are allowed; reviewed instead)
#          UseLetInEveryBoundCaseVariable          (`case let .x(a, b)` is fine)
#          AllPublicDeclarationsHaveDocumentation, ValidateDocumentationComments   (doc comments encouraged, not policed)
#          FileScopedDeclarationPrivacy, NoAccessLevelOnExtensionDeclaration       (access level style left to the author)
#          ReplaceForEachWithForLoop               (`forEach` on a chain reads fine)
#   - on (defaults kept): OrderedImports, UseShorthandTypeNames, NoBlockComments, TypeNamesShouldBeCapitalized, …
# --strict turns every finding into an error: exit 0 only when there are none (without --strict, style
# findings are warnings and the exit code is 0). Fix findings with:
#   swift format --in-place --recursive Sources Tests Package.swift
#
# Usage: scripts/lint.sh     Exit: 0 clean; 1 findings (listed on stderr); 2 swift-format not available.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"

if ! swift format --version >/dev/null 2>&1; then
    echo "lint: 'swift format' is not available (it ships with Swift 6 toolchains)" >&2
    exit 2
fi

targets=(Sources Tests Package.swift)
if swift format lint --strict --recursive --parallel --configuration .swift-format "${targets[@]}"; then
    echo "lint: clean"
else
    echo "lint: swift-format findings above (fix: swift format --in-place --recursive ${targets[*]})" >&2
    exit 1
fi
