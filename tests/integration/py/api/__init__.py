# A package, so that this folder's conftest and modules do not clash with
# those of the other suites under tests/integration/py/ in one pytest run.
