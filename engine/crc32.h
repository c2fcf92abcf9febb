// CRC-32 (IEEE 802.3, reflected, as zlib's crc32): the model file checksum.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bty {
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);
}
