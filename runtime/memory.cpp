// release_free_memory on glibc; a no-op elsewhere.
#include "runtime/memory.hpp"

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace hive::runtime {

void release_free_memory() noexcept {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

} // namespace hive::runtime
