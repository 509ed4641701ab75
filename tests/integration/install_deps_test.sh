#!/usr/bin/env bash
# The README's two commands, short of a bare machine (make bare-machine does
# that, slowly): ./berth.sh and scripts/install-deps.sh.
#   - ./berth.sh without a target prints its usage (exit 2);
#   - install-deps.sh as a user without root or sudo: nothing missing, it
#     exits 0 and prints nothing; something missing, it says what to do
#     (no raw "sudo: command not found");
#   - make run builds only the berth target without the tests, make test
#     builds them; the build package set has no test-only packages.
source "$(dirname "$0")/lib.sh"

out=$("$TOP/berth.sh" 2>&1)
expect_eq "./berth.sh without a target: exit 2" 2 $?
expect_contains "... and prints its usage" "usage:" "$out"

build_set=$(sed -n '/^build_pkgs=(/,/^)/p' "$TOP/scripts/install-deps.sh")
for p in make cmake build-essential libboost1.81-dev; do
  expect_contains "build package set has $p" "$p" "$build_set"
done
for p in libgtest-dev libbenchmark-dev skopeo clang; do
  check "build package set has no $p (test-only)" bash -c "! grep -qw -- '$p' <<<'$build_set'"
done

dry_run=$(make -C "$TOP" -n run 2>&1)
expect_contains "make run configures with BERTH_TESTS=OFF" "-DBERTH_TESTS=OFF" "$dry_run"
expect_contains "make run builds only the berth target" "--target berth" "$dry_run"
expect_contains "make run then runs berth init and serve" "berth serve --config" "$dry_run"
expect_contains "make test configures with BERTH_TESTS=ON" "-DBERTH_TESTS=ON" "$(make -C "$TOP" -n test 2>&1)"

if [[ $(id -u) == 0 ]] && id -u nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  # As nobody, from a copy nobody can read (the clone may be private).
  mkdir -p "$WORK/repo/scripts"
  cp "$TOP/scripts/install-deps.sh" "$WORK/repo/scripts/"
  chmod -R a+rX "$WORK"
  chmod 0755 "$WORK"
  out=$(cd / && runuser -u nobody -- "$WORK/repo/scripts/install-deps.sh" 2>&1)
  rc=$?
  if [[ $rc == 0 ]]; then
    expect_eq "install-deps.sh as nobody, nothing missing: exit 0, silent" "" "$out"
  else
    echo "# (the build packages are not all installed here: skipping the silent case)"
  fi
  out=$(cd / && runuser -u nobody -- env INSTALL_DEPS_EXTRA=berth-no-such-package \
    "$WORK/repo/scripts/install-deps.sh" </dev/null 2>&1)
  expect_eq "install-deps.sh as nobody without sudo, a package missing: exit 1" 1 $?
  expect_contains "... names the missing package" "berth-no-such-package" "$out"
  expect_contains "... says what to do" "ask an administrator to run, as root" "$out"
  check "... no raw sudo error" bash -c "! grep -q 'sudo:' <<<'$out'"
  chmod 0700 "$WORK"
else
  echo "# SKIP the non-root cases: needs root, runuser and a user nobody"
fi

summary
