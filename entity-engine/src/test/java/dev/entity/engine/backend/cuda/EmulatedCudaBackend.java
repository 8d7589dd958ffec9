// Tensors are CPU-backend allocations re-labelled as cuda:0, so CudaKernelOps accepts them and the
// emulated kernels read them in place; memory and matrix products (cuBLASLt's job on a GPU) go to
// a CpuBackend. Every other Backend method is routed by name to CudaKernelOps's method of the same
// signature, exactly what CudaBackend delegates.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;

/**
 * A {@link Backend} whose kernel ops are {@link CudaKernelOps} on an {@link EmulatedLauncher}: the
 * CUDA backend's own kernels and launch code, run on the host, for parity tests without a GPU.
 */
final class EmulatedCudaBackend {

  private static final Device DEVICE = new Device.Cuda(0);

  /**
   * Backend methods that are not kernel ops (memory, matrix products, identity), and the ones the
   * CUDA backend takes from Backend's defaults, composed of other ops.
   */
  static final Set<String> NOT_KERNEL_OPS =
      Set.of(
          "name",
          "device",
          "allocate",
          "free",
          "upload",
          "download",
          "matmul",
          "matmulPlusLowRank",
          "deviceBytesInUse",
          "peakDeviceBytes",
          "close");

  private EmulatedCudaBackend() {}

  static Backend open() {
    CpuBackend host = new CpuBackend(1);
    CudaKernelOps ops = new CudaKernelOps(new EmulatedLauncher());
    return (Backend)
        Proxy.newProxyInstance(
            Backend.class.getClassLoader(),
            new Class<?>[] {Backend.class},
            (proxy, m, args) -> {
              try {
                if (m.getName().equals("matmulPlusLowRank")) {
                  return InvocationHandler.invokeDefault(proxy, m, args);
                }
                return call(host, ops, m, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static Object call(CpuBackend host, CudaKernelOps ops, Method m, Object[] a)
      throws ReflectiveOperationException {
    return switch (m.getName()) {
      case "name", "toString" -> "cuda-emulated";
      case "device" -> DEVICE;
      case "hashCode" -> System.identityHashCode(host);
      case "equals" ->
          a[0] != null
              && Proxy.isProxyClass(a[0].getClass())
              && a[0].hashCode() == System.identityHashCode(host);
      case "allocate" -> relabel(host.allocate((DType) a[0], (long[]) a[1]), DEVICE);
      case "free" -> {
        host.free((Tensor) a[0]);
        yield null;
      }
      case "upload" -> {
        Tensor src = (Tensor) a[0];
        Tensor t = relabel(host.allocate(src.dtype(), src.shape()), DEVICE);
        MemorySegment.copy(src.data(), 0, t.data(), 0, src.byteSize());
        yield t;
      }
      case "download" -> {
        Tensor dst = (Tensor) a[0];
        Tensor src = (Tensor) a[1];
        if (dst.dtype() != src.dtype() || dst.byteSize() != src.byteSize()) {
          throw new IllegalArgumentException("download needs equal tensors: " + dst + " <- " + src);
        }
        MemorySegment.copy(src.data(), 0, dst.data(), 0, src.byteSize());
        yield null;
      }
      case "matmul" -> {
        host.matmul(
            relabel((Tensor) a[0], Device.CPU),
            relabel((Tensor) a[1], Device.CPU),
            relabel((Tensor) a[2], Device.CPU),
            (boolean) a[3],
            (boolean) a[4],
            (float) a[5],
            (boolean) a[6]);
        yield null;
      }
      case "deviceBytesInUse", "peakDeviceBytes" -> -1L;
      case "close" -> {
        host.close();
        yield null;
      }
      default -> CudaKernelOps.class.getMethod(m.getName(), m.getParameterTypes()).invoke(ops, a);
    };
  }

  private static Tensor relabel(Tensor t, Device device) {
    return new Tensor(t.dtype(), t.shape(), t.data(), device);
  }
}
