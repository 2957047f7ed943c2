/*
 * c-vmm: a small C VMM built on libcvm's C ABI.
 *
 * It shows what a kvmtool-style VMM written in C needs from libcvm: describe
 * the guest once, print the launch measurement every compiled-in technology
 * predicts for it (what a verifier would expect), then boot it on ordinary
 * KVM with the plain backend, optionally in a VM the program created itself.
 *
 * Build against an installed libcvm:
 *     cc c-vmm.c $(pkg-config --cflags --libs libcvm) -o c-vmm
 */
#define _POSIX_C_SOURCE 200809L

#include <cvm/cvm.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_OPTIONS 32

struct tech_option {
    char technology[64];
    char key[64];
    const char *value;
};

struct config {
    const char *kernel;
    const char *initrd;
    const char *firmware;
    const char *dtb;
    const char *cmdline;
    unsigned long long memory_mib;
    unsigned vcpus;
    unsigned long long timeout_ms;
    int boot;
    int own_vm;
    struct tech_option options[MAX_OPTIONS];
    size_t option_count;
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: c-vmm [-n] [-o] [-m MIB] [-p VCPUS] [-c CMDLINE] [-i INITRD] [-f FIRMWARE]\n"
            "             [-d DTB] [-t MS] [-O TECH:KEY=VALUE]... KERNEL\n"
            "Prints the launch measurement every technology in libcvm predicts for these images,\n"
            "then boots them on KVM with the plain backend.\n"
            "  -n  predict only, do not boot\n"
            "  -o  create the VM here and hand its fd to libcvm\n"
            "  -t  stop the guest after MS milliseconds\n"
            "  -O  a technology option, e.g. -O sev:policy=0x1\n");
}

/* "tech:key=value" -> one option entry. */
static int parse_tech_option(const char *text, struct config *config) {
    const char *colon = strchr(text, ':');
    const char *equals = colon ? strchr(colon, '=') : NULL;
    struct tech_option *option;
    if (!equals || config->option_count == MAX_OPTIONS) return -1;
    if ((size_t)(colon - text) >= sizeof option->technology || (size_t)(equals - colon - 1) >= sizeof option->key)
        return -1;
    option = &config->options[config->option_count++];
    memset(option, 0, sizeof *option);
    memcpy(option->technology, text, (size_t)(colon - text));
    memcpy(option->key, colon + 1, (size_t)(equals - colon - 1));
    option->value = equals + 1;
    return 0;
}

/* Prints what failed and libcvm's message; returns 1 for use as an exit code. */
static int report(const char *what, cvm_status status) {
    fprintf(stderr, "c-vmm: %s: %s: %s\n", what, cvm_status_name(status), cvm_last_error());
    return 1;
}

static cvm_status add_image(cvm_spec *spec, cvm_image_role role, const char *path) {
    return path ? cvm_spec_add_image_file(spec, role, path, 0, 0) : CVM_OK;
}

/* The spec of `technology` for the configured images. */
static cvm_status make_spec(const struct config *config, const char *technology, cvm_spec **out) {
    cvm_spec *spec = NULL;
    cvm_status status = cvm_spec_new(technology, &spec);
    size_t i;
    if (status == CVM_OK) status = cvm_spec_set_memory(spec, config->memory_mib << 20);
    if (status == CVM_OK) status = cvm_spec_set_vcpus(spec, config->vcpus);
    if (status == CVM_OK && config->cmdline) status = cvm_spec_set_cmdline(spec, config->cmdline);
    if (status == CVM_OK) status = add_image(spec, CVM_IMAGE_KERNEL, config->kernel);
    if (status == CVM_OK) status = add_image(spec, CVM_IMAGE_INITRD, config->initrd);
    if (status == CVM_OK) status = add_image(spec, CVM_IMAGE_FIRMWARE, config->firmware);
    if (status == CVM_OK) status = add_image(spec, CVM_IMAGE_DTB, config->dtb);
    for (i = 0; status == CVM_OK && i < config->option_count; ++i)
        if (strcmp(config->options[i].technology, technology) == 0)
            status = cvm_spec_set_option(spec, config->options[i].key, config->options[i].value);
    if (status != CVM_OK) {
        cvm_spec_free(spec);
        return status;
    }
    *out = spec;
    return CVM_OK;
}

/* One line per technology: its prediction, or why it refuses this guest. */
static int print_predictions(const struct config *config) {
    size_t t, r;
    for (t = 0; t < cvm_technology_count(); ++t) {
        const char *technology = cvm_technology_name(t);
        cvm_spec *spec = NULL;
        cvm_plan *plan = NULL;
        cvm_prediction *prediction = NULL;
        cvm_status status = make_spec(config, technology, &spec);
        if (status == CVM_OK) status = cvm_plan_build(spec, &plan);
        if (status == CVM_OK) status = cvm_predict(plan, &prediction);
        if (status == CVM_OK) {
            printf("prediction %s %s:%s\n", technology, cvm_prediction_algorithm(prediction),
                   cvm_prediction_hex(prediction));
            for (r = 0; r < cvm_prediction_register_count(prediction); ++r) {
                const char *name, *hex;
                if (cvm_prediction_register(prediction, r, &name, &hex) == CVM_OK)
                    printf("register %s %s %s\n", technology, name, hex);
            }
        } else if (status == CVM_ERR_INPUT) {
            /* A technology that cannot run this guest says why; that is not an error here. */
            printf("refused %s: %s\n", technology, cvm_last_error());
        } else {
            report(technology, status);
        }
        cvm_prediction_free(prediction);
        cvm_plan_free(plan);
        cvm_spec_free(spec);
        if (status != CVM_OK && status != CVM_ERR_INPUT) return 1;
    }
    return 0;
}

/* A VM created the way a VMM that owns its VM would: KVM_CREATE_VM on /dev/kvm. */
static int create_own_vm(void) {
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int vm;
    if (kvm < 0) return -1;
    vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
    close(kvm);
    return vm;
}

static int boot(const struct config *config) {
    cvm_spec *spec = NULL;
    cvm_plan *plan = NULL;
    cvm_launch *launch = NULL;
    int vm_fd = -1, rc = 1;
    cvm_status status = make_spec(config, "plain", &spec);
    if (status != CVM_OK) return report("plain spec", status);
    status = cvm_plan_build(spec, &plan);
    if (status == CVM_OK) status = cvm_launch_new(&launch);
    if (status == CVM_OK) status = cvm_launch_set_timeout_ms(launch, config->timeout_ms);
    if (status == CVM_OK && config->own_vm) {
        vm_fd = create_own_vm();
        if (vm_fd < 0) {
            fprintf(stderr, "c-vmm: cannot create a VM on /dev/kvm: %s\n", strerror(errno));
            goto out;
        }
        status = cvm_launch_set_vm_fd(launch, vm_fd, 0);
    }
    if (status == CVM_OK) {
        fflush(stdout);  /* the guest console writes to fd 1 directly */
        status = cvm_launch_run(launch, plan);
    }
    if (status != CVM_OK) {
        report("boot", status);
        goto out;
    }
    printf("boot %s: %s\n", cvm_exit_reason_name(cvm_launch_exit_reason(launch)), cvm_launch_exit_detail(launch));
    rc = cvm_launch_exit_reason(launch) == CVM_EXIT_POWER_OFF ? 0 : 1;
out:
    if (vm_fd >= 0) close(vm_fd);
    cvm_launch_free(launch);
    cvm_plan_free(plan);
    cvm_spec_free(spec);
    return rc;
}

int main(int argc, char **argv) {
    struct config config;
    int major, minor, opt, rc;
    memset(&config, 0, sizeof config);
    config.memory_mib = 128;
    config.vcpus = 1;
    config.boot = 1;

    while ((opt = getopt(argc, argv, "hnom:p:c:i:f:d:t:O:")) != -1) {
        switch (opt) {
        case 'n': config.boot = 0; break;
        case 'o': config.own_vm = 1; break;
        case 'm': config.memory_mib = strtoull(optarg, NULL, 0); break;
        case 'p': config.vcpus = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'c': config.cmdline = optarg; break;
        case 'i': config.initrd = optarg; break;
        case 'f': config.firmware = optarg; break;
        case 'd': config.dtb = optarg; break;
        case 't': config.timeout_ms = strtoull(optarg, NULL, 0); break;
        case 'O':
            if (parse_tech_option(optarg, &config) != 0) {
                fprintf(stderr, "c-vmm: -O wants TECH:KEY=VALUE, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    config.kernel = argv[optind];

    printf("libcvm %s\n", cvm_version(&major, &minor, NULL));
    if (major != CVM_VERSION_MAJOR || minor < CVM_VERSION_MINOR) {
        fprintf(stderr, "c-vmm: built for libcvm %d.%d, but libcvm %d.%d is loaded\n", CVM_VERSION_MAJOR,
                CVM_VERSION_MINOR, major, minor);
        return 1;
    }
    rc = print_predictions(&config);
    if (rc == 0 && config.boot) rc = boot(&config);
    return rc;
}
