package org.bitengine.tests;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.bitengine.io.npy.NpzReader;
import org.bitengine.models.cli.Main;

/**
 * A process for {@link MemoryTest}: runs a bit-engine command ({@code cli ARGS...}) or reads every
 * array of an .npz one at a time ({@code read FILE}), then prints its exit code and its peak resident
 * set size ({@code VmHWM} of /proc/self/status) as the last line: {@code exit=0 peak_rss_kb=123456}.
 */
public final class PeakRss {

    private PeakRss() {
    }

    public static void main(String[] args) throws IOException {
        int code;
        PrintWriter out = new PrintWriter(System.out, true);
        if (args[0].equals("read")) {
            long values = 0;
            try (NpzReader r = NpzReader.open(Path.of(args[1]))) {
                for (String k : r.keys()) values += r.read(k).size();
            }
            out.println("values=" + values);
            code = 0;
        } else {
            String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            code = Main.run(rest, out, new PrintWriter(System.err, true));
        }
        String hwm = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
                .map(l -> l.replaceAll("\\D", "")).findFirst().orElse("-1");
        out.println("exit=" + code + " peak_rss_kb=" + hwm);
        out.flush();
        System.exit(code);
    }
}
