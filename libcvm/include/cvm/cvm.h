/*
 * cvm.h: the C ABI of libcvm, for VMMs written in C, Rust or anything with a
 * C FFI.
 *
 * The model is the same as the C++ API: describe the VM in a spec, let the
 * technology's backend turn it into a launch plan, then either predict the
 * launch measurement from the plan or launch the plan on KVM. Because both
 * read the same plan, the prediction describes exactly what the launch does.
 *
 *     cvm_spec *spec;  cvm_plan *plan;  cvm_prediction *pred;
 *     if (cvm_spec_new("plain", &spec) != CVM_OK) die(cvm_last_error());
 *     cvm_spec_set_memory(spec, 128u << 20);
 *     cvm_spec_add_image_file(spec, CVM_IMAGE_KERNEL, "bzImage", 0, 0);
 *     cvm_plan_build(spec, &plan);
 *     cvm_predict(plan, &pred);
 *     printf("%s:%s\n", cvm_prediction_algorithm(pred), cvm_prediction_hex(pred));
 *
 * Conventions:
 *  - Every handle is opaque and freed by its cvm_*_free function, which
 *    accepts NULL. Handles may be used from any thread, one thread at a time.
 *  - Functions that can fail return a cvm_status. On failure they leave their
 *    outputs untouched and set a message for the calling thread, readable with
 *    cvm_last_error() until the thread's next failing call.
 *  - Strings returned as `const char *` belong to the handle they came from and
 *    live as long as it does. Strings returned as `char *` are the caller's,
 *    to be released with cvm_free().
 *  - No C++ exception ever leaves a function of this header.
 *
 * Symbols carry the version node LIBCVM_0; cvm_version() tells which release
 * is loaded.
 */
#ifndef CVM_CVM_H
#define CVM_CVM_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CVM_API __attribute__((visibility("default")))
#else
#define CVM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes and errors ------------------------------------------ */

typedef enum cvm_status {
    CVM_OK = 0,
    /* A NULL handle or output pointer, an unknown enum value, an index out of range. */
    CVM_ERR_ARGUMENT = 1,
    /* Bad input: a malformed image, an unknown technology or option, a
       configuration the measurement model does not fully understand. */
    CVM_ERR_INPUT = 2,
    /* A system call failed (open, mmap, a KVM ioctl); cvm_last_errno() says why. */
    CVM_ERR_SYSTEM = 3,
    CVM_ERR_NO_MEMORY = 4,
    /* Anything else: a defect in libcvm. */
    CVM_ERR_INTERNAL = 5
} cvm_status;

/* The message of the calling thread's last failure ("" if none). Valid until
   that thread's next failure. */
CVM_API const char *cvm_last_error(void);
/* The errno behind the calling thread's last CVM_ERR_SYSTEM, or 0. */
CVM_API int cvm_last_errno(void);
/* A short name for a status ("CVM_ERR_INPUT"). */
CVM_API const char *cvm_status_name(cvm_status status);

/* Releases a `char *` that libcvm returned. */
CVM_API void cvm_free(void *memory);

/* ---- version ----------------------------------------------------------- */

#define CVM_VERSION_MAJOR 0
#define CVM_VERSION_MINOR 1
#define CVM_VERSION_PATCH 0

/* The version of the loaded library as "major.minor.patch"; the numbers, if
   the pointers are not NULL. Compare with CVM_VERSION_* to detect a mismatch
   between the header a program was built with and the library it runs with. */
CVM_API const char *cvm_version(int *major, int *minor, int *patch);

/* ---- technologies ------------------------------------------------------ */

/* The technologies compiled into the library ("plain", ...), by index. */
CVM_API size_t cvm_technology_count(void);
/* NULL when `index` is out of range. */
CVM_API const char *cvm_technology_name(size_t index);
CVM_API const char *cvm_technology_summary(size_t index);
/* The technology's options, what cvm_spec_set_option takes, as a JSON array
   of {"name", "help", "default", "choices", "kind"} ("kind": "text" or
   "number"; "choices" empty for a free value). Free *out with cvm_free.
   CVM_ERR_INPUT when `index` is out of range. */
CVM_API cvm_status cvm_technology_options_json(size_t index, char **out);

/* ---- spec: what the VM should be --------------------------------------- */

typedef struct cvm_spec cvm_spec;

typedef enum cvm_image_role {
    CVM_IMAGE_KERNEL = 0,
    CVM_IMAGE_INITRD = 1,
    CVM_IMAGE_FIRMWARE = 2,
    CVM_IMAGE_DTB = 3,
    CVM_IMAGE_BLOB = 4 /* raw bytes at a caller-chosen GPA */
} cvm_image_role;

/* Flags for cvm_spec_add_image_*. */
#define CVM_IMAGE_UNMEASURED 0x1u /* loaded, but not part of the measurement */
#define CVM_IMAGE_AT_GPA 0x2u     /* load at `gpa` (blobs only) */

/* A spec for `technology` (see cvm_technology_name). The technology is
   checked when the plan is built. Defaults: 256 MiB, 1 vCPU, no images. */
CVM_API cvm_status cvm_spec_new(const char *technology, cvm_spec **out);
CVM_API void cvm_spec_free(cvm_spec *spec);

/* Bytes of guest RAM. */
CVM_API cvm_status cvm_spec_set_memory(cvm_spec *spec, uint64_t bytes);
/* Number of vCPUs; vCPU 0 boots. */
CVM_API cvm_status cvm_spec_set_vcpus(cvm_spec *spec, unsigned count);
/* The kernel command line. */
CVM_API cvm_status cvm_spec_set_cmdline(cvm_spec *spec, const char *cmdline);
/* A technology option, e.g. the SEV policy or the hash algorithm; the names
   and allowed values are the backend's (cvm-launch <tech> --help lists them).
   Unknown options are rejected when the plan is built. */
CVM_API cvm_status cvm_spec_set_option(cvm_spec *spec, const char *key, const char *value);
/* An image read from `path`, mapped read-only and never copied before it
   reaches guest memory. The file must stay unchanged until the plans built
   from this spec are freed. */
CVM_API cvm_status cvm_spec_add_image_file(cvm_spec *spec, cvm_image_role role, const char *path,
                                           uint32_t flags, uint64_t gpa);
/* An image from memory. The bytes are copied once, so the buffer may be
   freed on return; prefer a path for large images. */
CVM_API cvm_status cvm_spec_add_image_buffer(cvm_spec *spec, cvm_image_role role, const void *data,
                                             size_t size, uint32_t flags, uint64_t gpa);

/* ---- plan: what a launch does ------------------------------------------ */

typedef struct cvm_plan cvm_plan;

/* Applies the technology's layout rules to `spec`. The plan does not refer
   to the spec afterwards. */
CVM_API cvm_status cvm_plan_build(const cvm_spec *spec, cvm_plan **out);
CVM_API void cvm_plan_free(cvm_plan *plan);
CVM_API const char *cvm_plan_technology(const cvm_plan *plan);
CVM_API size_t cvm_plan_operation_count(const cvm_plan *plan);
/* One line per operation, for people. */
CVM_API cvm_status cvm_plan_to_text(const cvm_plan *plan, char **out);
/* The plan as JSON (loaded data by GPA, size and SHA-256, never the bytes). */
CVM_API cvm_status cvm_plan_to_json(const cvm_plan *plan, char **out);

/* The measured steps of the plan, in order, as the backend's measurement
   model sees them: what an event log records. */
CVM_API cvm_status cvm_plan_event_count(const cvm_plan *plan, size_t *count);
/* `kind` (e.g. "load-data"), a description, and the digest in hex; any
   output may be NULL. */
CVM_API cvm_status cvm_plan_event(const cvm_plan *plan, size_t index, const char **kind,
                                  const char **description, const char **digest_hex);

/* The plan's TCG PC Client crypto-agile event log (docs/event-log.md), with
   one digest bank of the plan's hash algorithm: what a verifier replays.
   `*bytes` is the caller's, released with cvm_free(). */
CVM_API cvm_status cvm_plan_event_log(const cvm_plan *plan, uint8_t **bytes, size_t *size);

/* ---- prediction: what the hardware will measure ------------------------ */

typedef struct cvm_prediction cvm_prediction;

/* Predicts the launch measurement of `plan`; fails (CVM_ERR_INPUT) for any
   configuration the model does not fully understand. */
CVM_API cvm_status cvm_predict(const cvm_plan *plan, cvm_prediction **out);
CVM_API void cvm_prediction_free(cvm_prediction *prediction);
CVM_API const char *cvm_prediction_technology(const cvm_prediction *prediction);
/* "sha256", "sha384" or "sha512". */
CVM_API const char *cvm_prediction_algorithm(const cvm_prediction *prediction);
/* The measurement in lowercase hex. */
CVM_API const char *cvm_prediction_hex(const cvm_prediction *prediction);
/* The measurement's bytes; returns their number. */
CVM_API size_t cvm_prediction_bytes(const cvm_prediction *prediction, const uint8_t **bytes);
/* Further registers where the technology has several, in report order. */
CVM_API size_t cvm_prediction_register_count(const cvm_prediction *prediction);
CVM_API cvm_status cvm_prediction_register(const cvm_prediction *prediction, size_t index,
                                           const char **name, const char **hex);
/* {"technology":..., "algorithm":..., "measurement":..., "registers":{...}} */
CVM_API cvm_status cvm_prediction_to_json(const cvm_prediction *prediction, char **out);

/* ---- runtime registers: what a running guest adds ---------------------- */

/* The technology's rule for a running guest's extend of a measurement
   register (Arm CCA: RSI_MEASUREMENT_EXTEND on a REM; RISC-V CoVE: the COVG
   extend of a runtime register), for verifiers that replay runtime events.
   `old_value` is the register, `old_size` bytes: its size names the hash
   (32 SHA-256, 48 SHA-384, 64 SHA-512). The new value, `old_size` bytes, is
   written to `out`, which may alias `old_value`. CVM_ERR_INPUT for an
   unknown technology, one without such registers, a size that names no hash
   or a value the technology's rule refuses. */
CVM_API cvm_status cvm_runtime_extend(const char *technology, const uint8_t *old_value, size_t old_size,
                                      const uint8_t *value, size_t value_size, uint8_t *out);

/* ---- verify: a launch's event log -------------------------------------- */

/* Verifies a TCG event log libcvm wrote (or a QEMU Arm CCA RFC log) as
   `cvm-launch log verify` does: every event against the known-good images
   listed in the file `images` (sha256sum, sha384sum or sha512sum output),
   and the measurement the log replays to against `expected`. CVM_OK with
   *match 1 when everything agrees, 0 on a mismatch; *report (unless `report`
   is NULL) receives a JSON object {"technology", "match", "replayed",
   "expected", "registers", "checked", "failures"} naming each event that
   disagreed, freed with cvm_free. A malformed log or images list is
   CVM_ERR_INPUT, with the file and offset in cvm_last_error(). */
CVM_API cvm_status cvm_log_verify(const uint8_t *log, size_t log_size, const char *images, const uint8_t *expected,
                                  size_t expected_size, int *match, char **report);

/* ---- launch: run the plan on KVM --------------------------------------- */

typedef struct cvm_launch cvm_launch;

/* How a launched guest stopped; the values are cvm-launch's exit codes. */
typedef enum cvm_exit_reason {
    CVM_EXIT_POWER_OFF = 0,
    CVM_EXIT_RESET = 10,
    CVM_EXIT_TRIPLE_FAULT = 11,
    CVM_EXIT_EMULATION_FAILURE = 12,
    CVM_EXIT_TIMEOUT = 13,
    CVM_EXIT_INTERRUPTED = 14 /* cvm_launch_interrupt stopped the run */
} cvm_exit_reason;

/* Launch settings, and after cvm_launch_run its outcome. Defaults: console
   on fd 1, no timeout, /dev/kvm, a VM created by libcvm. */
CVM_API cvm_status cvm_launch_new(cvm_launch **out);
CVM_API void cvm_launch_free(cvm_launch *launch);
/* Where the guest's serial console goes. The fd stays the caller's. */
CVM_API cvm_status cvm_launch_set_console_fd(cvm_launch *launch, int fd);
/* Stop the guest after `milliseconds` (0: never). */
CVM_API cvm_status cvm_launch_set_timeout_ms(cvm_launch *launch, uint64_t milliseconds);
/* The KVM device to open instead of /dev/kvm. */
CVM_API cvm_status cvm_launch_set_device(cvm_launch *launch, const char *path);
/* Run the plan in a VM the caller created with KVM_CREATE_VM(`machine_type`)
   and has done nothing else with: libcvm uses it where it would have created
   its own. The fd stays the caller's (libcvm works on a duplicate). The launch
   fails if the plan's backend asks for another machine type. -1 restores the
   default. */
CVM_API cvm_status cvm_launch_set_vm_fd(cvm_launch *launch, int vm_fd, unsigned long machine_type);

/* Builds the VM from `plan` and runs it until it stops. CVM_OK means the
   guest ran; how it stopped is then in cvm_launch_exit_reason/_detail. */
CVM_API cvm_status cvm_launch_run(cvm_launch *launch, const cvm_plan *plan);
/* Asks a running cvm_launch_run to stop its guest; it then returns CVM_OK
   with CVM_EXIT_INTERRUPTED. Safe from any thread and from a signal handler
   (it only sets a flag, which the run polls every few milliseconds). A call
   before the run makes the run stop as soon as the guest has started. */
CVM_API void cvm_launch_interrupt(cvm_launch *launch);
CVM_API cvm_exit_reason cvm_launch_exit_reason(const cvm_launch *launch);
/* A sentence about how the guest stopped ("" before a run). */
CVM_API const char *cvm_launch_exit_detail(const cvm_launch *launch);
/* "power-off", "reset", "triple-fault", "emulation-failure", "timeout" or "interrupted". */
CVM_API const char *cvm_exit_reason_name(cvm_exit_reason reason);

/* ---- the guest owner's round trip (AMD SEV, SEV-ES) --------------------- */
/* Between LAUNCH_MEASURE and LAUNCH_FINISH a launch sends its guest owner one
   JSON request {"technology", "measure", "api_major", "api_minor", "build",
   "policy", "secret_gpa", "secret_size"} and acts on one JSON reply:
   {"action":"finish"}, {"action":"inject","header":HEX,"secret":HEX[,"gpa":N]}
   or {"action":"abort","reason":TEXT}, which fails cvm_launch_run before the
   guest runs (docs/amd-sev.md, "The owner round trip"). Other technologies
   refuse a launch with an owner. Each setter replaces the previous one;
   cvm_launch_interrupt cancels a wait on fds or a command. */

/* The callback answers the request: it stores a reply it allocated with
   malloc() in *reply_json (libcvm frees it) and returns CVM_OK; any other
   status fails the launch. */
typedef cvm_status (*cvm_owner_fn)(void *context, const char *request_json, char **reply_json);
CVM_API cvm_status cvm_launch_set_owner(cvm_launch *launch, cvm_owner_fn owner, void *context);
/* One line each way over fds (the same fd twice for a socket); the fds stay the caller's. */
CVM_API cvm_status cvm_launch_set_owner_fds(cvm_launch *launch, int read_fd, int write_fd);
/* A command run with /bin/sh -c: the request on its stdin, the reply its first stdout line. */
CVM_API cvm_status cvm_launch_set_owner_command(cvm_launch *launch, const char *command);

/* The owner's side: answers `request_json` for a launch that must prove
   `launch_digest` (32 bytes) under `expected_policy`: checks MEASURE with
   `tik`, then wraps `secret` (NULL/0: finish without one; a multiple of 16
   bytes) with `tek` (NULL without a secret) for that launch. *reply_json
   (free with cvm_free) is the reply to send; *proven is 1 when the launch
   proved the digest and policy, 0 when the reply is a refusal. */
CVM_API cvm_status cvm_sev_owner_reply(const char *request_json, const uint8_t *launch_digest, size_t digest_size,
                                       uint32_t expected_policy, const uint8_t tik[16], const uint8_t *tek,
                                       const uint8_t *secret, size_t secret_size, int *proven, char **reply_json);

/* ---- the guest owner's certificates (AMD SEV) --------------------------- */

/* Checks the platform's PDH certificate up to the ARK the caller trusts
   (PDH <- PEK <- CEK <- ASK <- ARK, PEK <- OCA), the files as
   PDH_CERT_EXPORT and AMD's key server give them: *trusted 1 when every link
   holds, else 0; *report_json (free with cvm_free) as `cvm-launch
   verify-pdh-chain --json` prints it. A file that is not a certificate of its
   role is CVM_ERR_INPUT, one that cannot be read CVM_ERR_SYSTEM. */
CVM_API cvm_status cvm_sev_verify_pdh_chain(const char *pdh, const char *pek, const char *oca, const char *cek,
                                            const char *ask, const char *ark, int *trusted, char **report_json);
/* The guest owner's Diffie-Hellman certificate for LAUNCH_START (0x824
   bytes, SEV format) from a P-384 private key in PEM; `self_sign` 1 signs it
   with the same key as sev-tool does, 0 leaves both signature slots empty.
   *certificate is freed with cvm_free. */
CVM_API cvm_status cvm_sev_owner_dh_certificate(const char *key_pem, int self_sign, uint8_t api_major,
                                                uint8_t api_minor, uint8_t **certificate, size_t *size);

/* ---- the SNP ID block (AMD SEV-SNP) ------------------------------------- */

/* The ID block a guest owner signs for SNP_LAUNCH_FINISH and its ID
   authentication structure: the block (0x60 bytes) holds the expected
   `launch_digest` (48 bytes), `policy`, `family_id` and `image_id` (16 bytes
   each, NULL: zeros) and `guest_svn`; it is signed (ECDSA P-384, SHA-384) with
   the PEM private key `id_key_pem`, and the ID key with `author_key_pem`
   (NULL: no author key). Writes id_block[96], id_auth[4096] and the digests
   the attestation report carries: id_key_digest[48], and author_key_digest[48]
   (may be NULL; zeros without an author key). */
CVM_API cvm_status cvm_snp_sign_id_block(const uint8_t *launch_digest, uint64_t policy, const uint8_t *family_id,
                                         const uint8_t *image_id, uint32_t guest_svn, const char *id_key_pem,
                                         const char *author_key_pem, uint8_t *id_block, uint8_t *id_auth,
                                         uint8_t *id_key_digest, uint8_t *author_key_digest);

/* The owner's LAUNCH_START session for a platform's PDH certificate
   (`pdh_cert`, 0x824 bytes): ECDH of the P-384 private key `owner_key_pem`
   with the PDH's key, fresh transport keys, wrapped for `policy`. Writes
   session[128], tik[16] and tek[16] (keep the keys secret). */
CVM_API cvm_status cvm_sev_make_session(const uint8_t *pdh_cert, size_t pdh_cert_size, const char *owner_key_pem,
                                        uint32_t policy, uint8_t *session, uint8_t *tik, uint8_t *tek);

/* ---- verifiers' formats and reports ---------------------------------------- */

/* The plan's predicted launch as reference values for a verifier service:
   `format` "corim" (CBOR), "trustee" or "keybroker" (JSON), as `cvm-launch
   measure --reference-format` writes them (docs/reference-values.md).
   *bytes is freed with cvm_free. A technology a format cannot describe is
   CVM_ERR_INPUT. */
CVM_API cvm_status cvm_reference_values(const cvm_plan *plan, const char *format, uint8_t **bytes, size_t *size);

/* Checks an SEV-SNP attestation report (1184 bytes): the VCEK chain up to
   the ARK the caller trusts (PEM or DER files), the report's signature, its
   MEASUREMENT against `measurement` (48 bytes), and where given HOST_DATA
   (32 bytes), REPORT_DATA (64) and the ID and author key digests (48 each;
   NULL: not checked). *match is 1 when all hold; *report_json (NULL: not
   wanted; free with cvm_free) is what `cvm-launch verify-report --json`
   prints. A malformed report is CVM_ERR_INPUT. */
CVM_API cvm_status cvm_snp_verify_report(const uint8_t *report, size_t report_size, const char *vcek, const char *ask,
                                         const char *ark, const uint8_t *measurement, const uint8_t *host_data,
                                         const uint8_t *report_data, const uint8_t *id_key_digest,
                                         const uint8_t *author_key_digest, int *match, char **report_json);

#ifdef __cplusplus
}
#endif

#endif /* CVM_CVM_H */
