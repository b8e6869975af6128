import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Runs bit-engine's GPU test suite without Maven (the GPU machine has neither Maven nor a network):
 * every JUnit test in the packages org.bitengine.engine.backend.cuda and org.bitengine.tests.cuda
 * found on the classpath, through the JUnit Platform launcher.
 *
 * <p>Prints one line per test (OK, FAILED with its message, SKIPPED with the reason) and a summary.
 * Exit status: 0 all passed; 1 a test failed; 2 with --require-gpu, a test was skipped (on the GPU
 * machine a skip means the GPU could not be opened, which is itself a failure there).
 *
 * <p>Compiled by scripts/gpu/prepare.sh (the jlink'd runtime has no compiler to run it as source).
 */
public final class GpuSuite {

    public static void main(String[] args) {
        boolean requireGpu = List.of(args).contains("--require-gpu");
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("org.bitengine.engine.backend.cuda"), selectPackage("org.bitengine.tests.cuda"))
                .build();
        List<String> aborted = new ArrayList<>();
        TestExecutionListener printer = new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) return;
                String name = id.getUniqueIdObject().getSegments().stream()
                        .filter(s -> s.getType().equals("class") || s.getType().equals("method"))
                        .map(s -> s.getValue().replaceFirst("^org\\.bitengine\\.", "")).reduce((a, b) -> a + "#" + b).orElse(id.getDisplayName());
                String why = result.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("");
                switch (result.getStatus()) {
                    case SUCCESSFUL -> System.out.println("OK      " + name);
                    case ABORTED -> {
                        // Only a missing GPU counts against --require-gpu; a test that does not
                        // apply where a GPU exists (the no-GPU fallback checks) skips by design.
                        if (why.contains("no usable GPU")) aborted.add(name);
                        System.out.println("SKIPPED " + name + " -- " + why);
                    }
                    case FAILED -> System.out.println("FAILED  " + name + " -- " + why);
                }
            }
        };
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, summary, printer);
        PrintWriter out = new PrintWriter(System.out, true);
        summary.getSummary().printFailuresTo(out, 40);
        summary.getSummary().printTo(out);
        long failed = summary.getSummary().getTotalFailureCount();
        if (summary.getSummary().getTestsFoundCount() == 0) {
            System.out.println("no GPU tests found on the classpath");
            System.exit(1);
        }
        if (failed > 0) System.exit(1);
        if (requireGpu && !aborted.isEmpty()) {
            System.out.println(aborted.size() + " test(s) skipped for want of a GPU although --require-gpu was given");
            System.exit(2);
        }
        System.exit(0);
    }
}
