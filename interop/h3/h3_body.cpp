#include "h3_body.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quicbed::h3 {

Body Body::from_buffer(std::vector<uint8_t> data) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(data));
  Body b;
  b.bytes_ = Bytes(owned->data(), owned->size());
  b.owner_ = std::move(owned);
  return b;
}

Body Body::from_string(const std::string& s) { return from_buffer(std::vector<uint8_t>(s.begin(), s.end())); }

namespace {

// An mmap of a whole file, unmapped with the last Body that shares it.
struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  ~Mapping() {
    if (addr) munmap(addr, len);
  }
};

}  // namespace

std::optional<Body> Body::from_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return std::nullopt;
  }
  Body b;
  const size_t len = static_cast<size_t>(st.st_size);
  if (len > 0) {  // mmap refuses a zero length; an empty file is an empty body
    void* addr = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      close(fd);
      return std::nullopt;
    }
    auto m = std::make_shared<Mapping>();
    m->addr = addr;
    m->len = len;
    b.bytes_ = Bytes(static_cast<const uint8_t*>(addr), len);
    b.owner_ = std::move(m);
  }
  close(fd);  // the mapping stays valid without the descriptor
  return b;
}

std::unique_ptr<FileSink> FileSink::create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return nullptr;
  return std::unique_ptr<FileSink>(new FileSink(f));
}

FileSink::~FileSink() {
  if (f_) std::fclose(f_);
}

bool FileSink::write(Bytes data) { return f_ && std::fwrite(data.data(), 1, data.size(), f_) == data.size(); }

bool FileSink::finish() {
  if (!f_) return false;
  const bool ok = std::fclose(f_) == 0;
  f_ = nullptr;
  return ok;
}

}  // namespace quicbed::h3
