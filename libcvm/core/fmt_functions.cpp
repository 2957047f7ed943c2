// fmt's out-of-line functions, compiled into libcvm from the fmt headers
// Debian installs (libfmt-dev), instead of linking libfmt.so.
//
// Why: libfmt.so is a C++ library, so a process using it loads libstdc++.so
// too, and the dynamic loader's symbol binding for the two was about a
// third of cvm-launch's start-up (1.7 M of its cycles before main). With
// fmt's few non-inline functions here and the C++ runtime linked statically
// into cvm-launch, the launcher loads only C libraries (libc, libcrypto,
// libfdt, libcbor). A header-only fmt would do the same but doubles the
// compile time of every file that formats.
//
// format-inl.h defines fmt's FMT_FUNC functions; without FMT_HEADER_ONLY
// they are ordinary (strong) definitions, so this one file provides them
// all. The templates format.h declares `extern` are instantiated here for
// char, the only character type libcvm formats.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
#if FMT_VERSION >= 100000
// fmt 10 (Debian 13's, in the riscv64 sysroot) declares the formatting
// loop for char extern as well; vformat above calls it.
template void vformat_to(buffer<char>&, string_view, typename vformat_args<>::type, locale_ref);
#endif
} // namespace detail
FMT_END_NAMESPACE
