#include "normalise/env.hpp"

#include <cstdlib>

namespace postwire::normalise {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && !(v[0] == '0' && v[1] == '\0');
}

}  // namespace postwire::normalise
