// Returning freed heap memory to the operating system.
#pragma once

namespace hive::runtime {

/// Gives free heap pages back to the OS (glibc malloc_trim). Takes milliseconds on a large heap:
/// call it when the process is idle, not on a hot path.
void release_free_memory() noexcept;

} // namespace hive::runtime
