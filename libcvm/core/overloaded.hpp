// The visitor of lambdas for std::visit: overloaded{[](const A&) {...}, [](const B&) {...}}.
#pragma once

namespace cvm {

template <class... Ts> struct overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> overloaded(Ts...) -> overloaded<Ts...>;

} // namespace cvm
