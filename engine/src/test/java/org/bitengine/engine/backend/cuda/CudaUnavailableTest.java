package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.Devices;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Device selection, on any machine: the spellings, and, where no GPU can be opened, that {@code auto}
 * falls back to the CPU with a one-line reason and an explicit {@code cuda} fails with one clear line.
 */
class CudaUnavailableTest {

    @Test
    void cpuIsTheCpuBackendWithoutReason() {
        Devices.Selection s = Devices.select("cpu");
        assertSame(CpuBackend.get(), s.backend());
        assertFalse(s.fellBack());
        assertSame(CpuBackend.get(), Devices.select(" CPU ").backend());
    }

    @Test
    void unknownDeviceIsOneClearLine() {
        for (String spec : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "", "tpu:0"}) {
            BitEngineException e = assertThrows(BitEngineException.class, () -> Devices.select(spec), spec);
            assertTrue(e.getMessage().contains("auto, cpu, cuda or cuda:N"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void withoutGpuAutoFallsBackToCpuWithAOneLineReason() {
        String reason = Gpu.unavailableReason();
        assumeTrue(reason != null, "a GPU is usable here; the fallback is not exercised");
        Devices.Selection s = Devices.select("auto");
        assertSame(CpuBackend.get(), s.backend());
        assertTrue(s.fellBack());
        assertTrue(s.reason().startsWith("no usable GPU, running on the CPU: "), s.reason());
        assertFalse(s.reason().contains("\n"), s.reason());
        System.out.println("[device auto] " + s.reason());
    }

    @Test
    void withoutGpuAnExplicitCudaIsOneClearLine() {
        String reason = Gpu.unavailableReason();
        assumeTrue(reason != null, "a GPU is usable here; the failure is not exercised");
        for (String spec : new String[] {"cuda", "cuda:0", "cuda:3"}) {
            BitEngineException e = assertThrows(BitEngineException.class, () -> Devices.select(spec));
            assertFalse(e.getMessage().isBlank());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            System.out.println("[device " + spec + "] " + e.getMessage());
        }
    }

    @Test
    void movingATensorToItsOwnBackendIsTheSameTensor() {
        Tensor t = Tensor.of(new float[] {1, 2, 3}, 3);
        assertSame(t, Devices.to(t, CpuBackend.get()));
    }

    @Test
    void allocatorSizeClassesRoundUpWithBoundedSlack() {
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(1L << 20, DeviceAllocator.sizeClass((1L << 20) - 1));
        for (long bytes : new long[] {(1L << 20) + 1, 3_000_000, 123_456_789, 5L << 30}) {
            long c = DeviceAllocator.sizeClass(bytes);
            assertTrue(c >= bytes && c <= bytes * 1.25 + 1, bytes + " -> " + c);
            assertEquals(c, DeviceAllocator.sizeClass(c), "a class is its own class");
        }
    }
}
