// The CoVE UAPI constants of backends/riscv-cove/cove_uapi.hpp against the
// RISC-V kernel headers, and the kernel header checks, built for riscv64.
// On riscv64 <linux/kvm.h> brings the real arch/riscv uapi asm/kvm.h, so the
// ONE_REG ids and the RFC ioctl number are checked against the kernel's own
// macros with the RV64 `unsigned long`; on other hosts those cases skip.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "backends/riscv-cove/cove_uapi.hpp"
#include "libcvm/riscv64/kernel_image.hpp"
#include "cvm/error.hpp"

namespace {

TEST(CoveRv64Abi, OneRegIdsMatchTheRiscvHeaders) {
#if defined(__riscv) && __riscv_xlen == 64
    EXPECT_EQ(cvm::cove::kRegPc, KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG(regs.pc));
    EXPECT_EQ(cvm::cove::kRegA0, KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG(regs.a0));
    EXPECT_EQ(cvm::cove::kRegA1, KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG(regs.a1));
#else
    GTEST_SKIP() << "needs the riscv64 kernel headers (run in the riscv64 cross build)";
#endif
}

TEST(CoveRv64Abi, MeasureRegionAsTheRfcDeclaresIt) {
#if defined(__riscv) && __riscv_xlen == 64
    // The RFC's declaration, with the platform's own unsigned long.
    struct kvm_riscv_cove_measure_region {
        unsigned long userspace_addr;
        unsigned long gpa;
        unsigned long size;
    };
    EXPECT_EQ(sizeof(kvm_riscv_cove_measure_region), sizeof(cvm::cove::MeasureRegion));
    EXPECT_EQ(_IOR(KVMIO, 0xb5, struct kvm_riscv_cove_measure_region), cvm::cove::kMeasureRegion);
    EXPECT_EQ(KVM_SET_ONE_REG, 0x4010aeacUL);
#else
    GTEST_SKIP() << "needs an RV64 unsigned long (run in the riscv64 cross build)";
#endif
}

std::vector<std::uint8_t> header() {
    std::vector<std::uint8_t> b(4096, 0);
    auto put = [&](std::size_t at, auto v) { std::memcpy(b.data() + at, &v, sizeof v); };
    put(8, std::uint64_t{0x200000});
    put(16, std::uint64_t{0x400000});
    put(32, std::uint32_t{2});
    put(56, std::uint32_t{0x05435352});
    return b;
}

TEST(CoveRv64Abi, KernelHeaderChecks) {
    auto good = header();
    auto image = cvm::riscv64::check_riscv_kernel(cvm::ByteSpan(good), "Image");
    EXPECT_EQ(image.text_offset, 0x200000u);
    EXPECT_EQ(image.image_size, 0x400000u);

    auto located = [](std::vector<std::uint8_t> b, std::uint64_t offset) {
        try {
            cvm::riscv64::check_riscv_kernel(cvm::ByteSpan(b), "Image");
            ADD_FAILURE() << "accepted a header broken at " << offset;
        } catch (const cvm::Error& e) {
            EXPECT_EQ(e.where(), "Image");
            EXPECT_EQ(e.offset().value_or(~0ull), offset) << e.what();
        }
    };
    auto b = header();
    b[24] = 1;  // big-endian flag
    located(b, 24);
    b = header();
    b[32] = 1;  // version 0.1
    located(b, 32);
    b = header();
    b[10] = 0x40;  // text_offset 0x400000
    located(b, 8);
    b = header();
    b[56] = 0;  // no magic
    located(b, 56);
    located(std::vector<std::uint8_t>(63, 0), 0);
}

TEST(CoveRv64Abi, TsmAbiNames) {
    EXPECT_EQ(cvm::cove::parse_tsm_abi("v0.5"), cvm::cove::TsmAbi::v0_5);
    EXPECT_EQ(cvm::cove::to_string(cvm::cove::TsmAbi::v0_7), "v0.7");
    EXPECT_EQ(cvm::cove::covh_function_ids(cvm::cove::TsmAbi::v0_5).add_measured_pages, 10u);
    EXPECT_EQ(cvm::cove::covh_function_ids(cvm::cove::TsmAbi::v0_7).add_measured_pages, 11u);
    EXPECT_THROW(cvm::cove::parse_tsm_abi("v1.0"), cvm::Error);
}

} // namespace
