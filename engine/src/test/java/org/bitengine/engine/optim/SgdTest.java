package org.bitengine.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Map;

import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SgdTest {

    /** PyTorch's form: buf = m·buf + g, p −= lr·buf, the first buffer being the gradient itself. */
    @Test
    void momentumInPytorchForm() {
        Tensor p = Tensor.of(new float[] {1f, -2f}, 2).requiresGrad(true);
        Sgd sgd = new Sgd(Map.of("p", p), 0.9);
        p.setGrad(Tensor.of(new float[] {0.5f, 1f}, 2));
        sgd.step(0.1);
        assertArrayEquals(new float[] {1f - 0.05f, -2f - 0.1f}, p.toFloatArray(), 1e-7f);
        p.setGrad(Tensor.of(new float[] {1f, 0f}, 2));
        sgd.step(0.1);
        // buf = 0.9·[0.5, 1] + [1, 0] = [1.45, 0.9]
        assertArrayEquals(new float[] {0.95f - 0.145f, -2.1f - 0.09f}, p.toFloatArray(), 1e-6f);
    }

    @Test
    void restoredMomentumContinuesTheSavedRun() {
        Tensor a = Tensor.of(new float[] {1f, 2f, 3f}, 3).requiresGrad(true);
        Sgd first = new Sgd(Map.of("w", a), 0.9);
        a.setGrad(Tensor.of(new float[] {0.3f, -0.1f, 0.7f}, 3));
        first.step(0.01);
        float[] saved = first.state().get("momentum/w").toFloatArray();

        Tensor b = Tensor.of(a.toFloatArray(), 3).requiresGrad(true);
        Sgd resumed = new Sgd(Map.of("w", b), 0.9);
        resumed.restore(Map.of("momentum/w", saved), 1);

        Tensor g = Tensor.of(new float[] {-0.2f, 0.4f, 0.1f}, 3);
        a.setGrad(g);
        b.setGrad(g);
        first.step(0.01);
        resumed.step(0.01);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
    }
}
