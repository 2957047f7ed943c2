# Sourced by the script tests: the vector lookup of test_paths.hpp.
# CVM_VECTORS_DIR holds the project's own vectors, CVM_EXTERNAL_VECTORS_DIR
# the external inputs scripts/fetch-vectors fetched (tests/vectors/external.tsv).

# The path of vector file $1.
vector_path() {
    local own=${CVM_VECTORS_DIR:?}/$1
    if [[ -e $own ]]; then echo "$own"; else echo "${CVM_EXTERNAL_VECTORS_DIR:?}/$1"; fi
}

# Succeeds if vector file $1 is here; otherwise prints the "SKIP: reason"
# line scripts/test counts, naming $2 (what is not checked), and fails.
need_vector() {
    [[ -e $(vector_path "$1") ]] && return 0
    echo "SKIP: $2: $1 is an external input (tests/vectors/external.tsv) that is not at" \
         "$CVM_EXTERNAL_VECTORS_DIR: scripts/fetch-vectors fetches it"
    return 1
}
