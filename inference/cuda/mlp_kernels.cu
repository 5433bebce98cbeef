// The GPU batch evaluator: one kernel evaluates a whole batch of rows, layer by layer, in shared
// memory; the weights are uploaded once per evaluator. Arithmetic as in reference_row
// (batch_eval.cpp) except exp, which is expf here.
#include "inference/cuda/mlp_kernels.hpp"

#include <algorithm>
#include <cuda_runtime.h>

namespace hive::inference::cuda {
namespace {

constexpr int threads_per_block = 256;
/// A bigger batch runs as several launches, so device buffers stay bounded (and indices int).
constexpr size_t max_rows_per_launch = size_t{1} << 18;
/// The shared memory every device gives a block without opting in.
constexpr size_t shared_bytes = 48 * 1024;

struct layer_desc {
  int n_in;    ///< neurons of the layer before, bias not counted
  int n_out;   ///< neurons of this layer
  int weights; ///< offset of its first weight (mlp_weights layout)
  activation function;
  float steepness;
};

/// The network's shape, passed by value to the kernel.
struct net_desc {
  int layers; ///< entries of `l`: the network's layers less the input layer
  int stride; ///< floats per row in shared memory: widest layer + bias, made odd
  int tile;   ///< rows per block
  layer_desc l[gpu_max_layers - 1];
};

/// reference_row's fann_dot with explicit roundings: nvcc would otherwise fuse into FMAs.
__device__ float fann_dot(const float* __restrict__ w, const float* a, int n) {
  int i = n & 3;
  float sum = 0.0f;
  switch (i) {
    case 3: sum = __fadd_rn(sum, __fmul_rn(__ldg(w + 2), a[2])); [[fallthrough]];
    case 2: sum = __fadd_rn(sum, __fmul_rn(__ldg(w + 1), a[1])); [[fallthrough]];
    case 1: sum = __fadd_rn(sum, __fmul_rn(__ldg(w), a[0])); [[fallthrough]];
    default: break;
  }
  for (; i != n; i += 4) {
    float four = __fadd_rn(__fmul_rn(__ldg(w + i), a[i]), __fmul_rn(__ldg(w + i + 1), a[i + 1]));
    four = __fadd_rn(four, __fmul_rn(__ldg(w + i + 2), a[i + 2]));
    four = __fadd_rn(four, __fmul_rn(__ldg(w + i + 3), a[i + 3]));
    sum = __fadd_rn(sum, four);
  }
  return sum;
}

__device__ float activate(activation f, float s) {
  switch (f) {
    case activation::linear: return s;
    case activation::sigmoid: return 1.0f / (1.0f + expf(-2.0f * s));
    case activation::sigmoid_symmetric: return 2.0f / (1.0f + expf(-2.0f * s)) - 1.0f;
    case activation::gaussian: return expf(-s * s);
    case activation::elliot: return (s / 2.0f) / (1.0f + fabsf(s)) + 0.5f;
  }
  return s;
}

/// Block b evaluates rows [b * tile, b * tile + tile) of x into y. Shared memory holds two
/// buffers of `tile` rows of one layer's values (plus the bias, 1): the layer read and the
/// layer written.
__global__ void forward(net_desc net, const float* __restrict__ weights,
                        const float* __restrict__ x, float* __restrict__ y, int rows) {
  extern __shared__ float values[];
  float* a = values;
  float* b = values + net.tile * net.stride;
  const int row0 = blockIdx.x * net.tile;
  const int n = min(net.tile, rows - row0);

  const int n_first = net.l[0].n_in;
  for (int k = threadIdx.x; k < n * n_first; k += blockDim.x) {
    int r = k / n_first;
    a[r * net.stride + k - r * n_first] = x[row0 * n_first + k];
  }
  for (int r = threadIdx.x; r < n; r += blockDim.x)
    a[r * net.stride + n_first] = 1.0f;
  __syncthreads();

  for (int l = 0; l < net.layers; ++l) {
    const layer_desc d = net.l[l];
    const float max_sum = 150 / d.steepness;
    // Neighbouring threads take neighbouring rows of one neuron: they load the same weight
    // (one broadcast) and, the stride being odd, hit different shared-memory banks.
    for (int p = threadIdx.x; p < n * d.n_out; p += blockDim.x) {
      int j = p / n, r = p - j * n;
      float s = d.steepness
                * fann_dot(weights + d.weights + j * (d.n_in + 1), a + r * net.stride, d.n_in + 1);
      if (s > max_sum)
        s = max_sum;
      else if (s < -max_sum)
        s = -max_sum;
      b[r * net.stride + j] = activate(d.function, s);
    }
    for (int r = threadIdx.x; r < n; r += blockDim.x)
      b[r * net.stride + d.n_out] = 1.0f;
    __syncthreads();
    float* t = a;
    a = b;
    b = t;
  }

  const int n_last = net.l[net.layers - 1].n_out;
  for (int k = threadIdx.x; k < n * n_last; k += blockDim.x) {
    int r = k / n_last;
    y[row0 * n_last + k] = a[r * net.stride + k - r * n_last];
  }
}

error cuda_error(const char* what, cudaError_t e) {
  return make_error(errc::internal, std::string{"CUDA: "} + what + ": " + cudaGetErrorString(e));
}

/// Owns the device memory and a stream of its own; see batch_evaluator for threads.
class gpu_evaluator final : public batch_evaluator {
public:
  gpu_evaluator(const mlp_weights& w, std::string name) : name_(std::move(name)) {
    unsigned widest = *std::max_element(w.layers.begin(), w.layers.end());
    net_.layers = static_cast<int>(w.layers.size() - 1);
    net_.stride = static_cast<int>((widest + 1) | 1u);
    int tile = static_cast<int>(shared_bytes / (2 * sizeof(float) * net_.stride));
    tile = std::min(tile, 128);
    net_.tile = tile >= 32 ? tile - tile % 32 : tile; // whole warps share a neuron
    int offset = 0;
    for (size_t l = 1; l < w.layers.size(); ++l) {
      bool last = l + 1 == w.layers.size();
      net_.l[l - 1] = layer_desc{static_cast<int>(w.layers[l - 1]), static_cast<int>(w.layers[l]),
                                 offset, last ? w.output : w.hidden,
                                 last ? w.output_steepness : w.hidden_steepness};
      offset += static_cast<int>((w.layers[l - 1] + 1) * w.layers[l]);
    }
    inputs_ = w.layers.front();
    outputs_ = w.layers.back();
  }

  ~gpu_evaluator() override {
    cudaFree(weights_);
    cudaFree(x_);
    cudaFree(y_);
    if (stream_ != nullptr)
      cudaStreamDestroy(stream_);
  }

  result<unit_t> upload(const std::vector<float>& w) {
    if (auto e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking); e != cudaSuccess)
      return cuda_error("cannot create a stream", e);
    size_t bytes = w.size() * sizeof(float);
    if (auto e = cudaMalloc(&weights_, bytes); e != cudaSuccess)
      return cuda_error("cannot allocate the weights", e);
    if (auto e = cudaMemcpy(weights_, w.data(), bytes, cudaMemcpyHostToDevice); e != cudaSuccess)
      return cuda_error("cannot upload the weights", e);
    return unit;
  }

  std::string device() const override { return "GPU (" + name_ + ")"; }
  size_t inputs() const override { return inputs_; }
  size_t outputs() const override { return outputs_; }

  result<unit_t> run(const float* in, size_t rows, float* out) override {
    if (rows == 0)
      return unit;
    // The current device is per host thread; this thread may not have chosen ours.
    if (auto e = cudaSetDevice(0); e != cudaSuccess)
      return cuda_error("cannot select the device", e);
    for (size_t done = 0; done < rows;) {
      size_t n = std::min(rows - done, max_rows_per_launch);
      if (auto grown = reserve(n); !grown)
        return grown;
      if (auto e = cudaMemcpyAsync(x_, in + done * inputs_, n * inputs_ * sizeof(float),
                                   cudaMemcpyHostToDevice, stream_);
          e != cudaSuccess)
        return cuda_error("cannot copy the inputs", e);
      unsigned blocks = static_cast<unsigned>((n + net_.tile - 1) / net_.tile);
      size_t shared = 2 * sizeof(float) * net_.tile * net_.stride;
      forward<<<blocks, threads_per_block, shared, stream_>>>(net_, weights_, x_, y_,
                                                              static_cast<int>(n));
      if (auto e = cudaGetLastError(); e != cudaSuccess)
        return cuda_error("cannot launch the kernel", e);
      if (auto e = cudaMemcpyAsync(out + done * outputs_, y_, n * outputs_ * sizeof(float),
                                   cudaMemcpyDeviceToHost, stream_);
          e != cudaSuccess)
        return cuda_error("cannot copy the outputs", e);
      done += n;
    }
    if (auto e = cudaStreamSynchronize(stream_); e != cudaSuccess)
      return cuda_error("the batch failed", e);
    return unit;
  }

private:
  /// Device buffers for at least `rows` rows, grown in powers of two.
  result<unit_t> reserve(size_t rows) {
    if (rows <= capacity_)
      return unit;
    // Earlier launches on the stream may still read the old buffers.
    if (auto e = cudaStreamSynchronize(stream_); e != cudaSuccess)
      return cuda_error("the batch failed", e);
    size_t want = std::max<size_t>(capacity_, 1024);
    while (want < rows)
      want *= 2;
    cudaFree(x_);
    cudaFree(y_);
    x_ = y_ = nullptr;
    capacity_ = 0;
    if (auto e = cudaMalloc(&x_, want * inputs_ * sizeof(float)); e != cudaSuccess)
      return cuda_error("cannot allocate the input buffer", e);
    if (auto e = cudaMalloc(&y_, want * outputs_ * sizeof(float)); e != cudaSuccess)
      return cuda_error("cannot allocate the output buffer", e);
    capacity_ = want;
    return unit;
  }

  std::string name_;
  net_desc net_{};
  size_t inputs_ = 0;
  size_t outputs_ = 0;
  cudaStream_t stream_ = nullptr;
  float* weights_ = nullptr;
  float* x_ = nullptr; ///< capacity_ rows of inputs
  float* y_ = nullptr; ///< capacity_ rows of outputs
  size_t capacity_ = 0;
};

} // namespace

gpu_probe probe() {
  gpu_probe p;
  p.built = true;
  int count = 0;
  if (auto e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    p.description = std::string{"no CUDA device: "} + cudaGetErrorString(e);
    return p;
  }
  if (count == 0) {
    p.description = "no CUDA device: none found";
    return p;
  }
  cudaDeviceProp prop{};
  if (auto e = cudaGetDeviceProperties(&prop, 0); e != cudaSuccess) {
    p.description = std::string{"cannot query CUDA device 0: "} + cudaGetErrorString(e);
    return p;
  }
  // Fails when this build carries no code the device can run (an older GPU than sm_90).
  cudaFuncAttributes attributes{};
  if (auto e = cudaFuncGetAttributes(&attributes, forward); e != cudaSuccess) {
    p.description = std::string{prop.name} + " (sm_" + std::to_string(prop.major)
                    + std::to_string(prop.minor) + ") cannot run this build's kernel: "
                    + cudaGetErrorString(e);
    return p;
  }
  p.usable = true;
  p.description = prop.name;
  return p;
}

result<std::unique_ptr<batch_evaluator>> make_evaluator(const mlp_weights& w,
                                                        const std::string& device_name) {
  if (auto e = cudaSetDevice(0); e != cudaSuccess)
    return cuda_error("cannot select the device", e);
  auto gpu = std::make_unique<gpu_evaluator>(w, device_name);
  if (auto uploaded = gpu->upload(w.weights); !uploaded)
    return std::move(uploaded).err();
  return std::unique_ptr<batch_evaluator>{std::move(gpu)};
}

} // namespace hive::inference::cuda
