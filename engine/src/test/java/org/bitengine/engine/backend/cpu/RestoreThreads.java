package org.bitengine.engine.backend.cpu;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code @ExtendWith(RestoreThreads.class)}: tests that call {@link CpuParallel#setThreads} get the
 * thread count they started with back after each test, so no test leaks its count into the next.
 */
final class RestoreThreads implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RestoreThreads.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("threads", CpuParallel.threads());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Integer saved = context.getStore(NS).get("threads", Integer.class);
        if (saved != null) CpuParallel.setThreads(saved);
    }
}
