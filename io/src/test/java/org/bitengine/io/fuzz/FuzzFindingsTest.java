package org.bitengine.io.fuzz;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.IoTestSupport.resource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.bitengine.io.data.CifarDataset;
import org.bitengine.io.data.IdxDataset;
import org.bitengine.io.data.Split;
import org.bitengine.io.image.ImageDecoder;
import org.bitengine.io.json.Json;
import org.bitengine.io.torch.TorchStateDict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What fuzzing found, each with the saved input (the fuzz tests replay them too, for the generic
 * contract) and the message the fix gives now.
 */
class FuzzFindingsTest {

    private static final String INPUTS = "org/bitengine/io/fuzz/";

    @TempDir
    Path dir;

    /** Three idx dimensions whose product wraps a long: a gzipped file asked readNBytes for a negative length. */
    @Test
    void idxDimensionsWhoseProductOverflows() throws IOException {
        byte[] input = Files.readAllBytes(resource(INPUTS + "IdxFuzzTestInputs/idx/dims-overflow-long"));
        Path labels = Files.write(dir.resolve("train-labels-idx1-ubyte"),
                ByteBuffer.allocate(9).putInt(0x801).putInt(1).array());
        Path plain = Files.write(dir.resolve("train-images-idx3-ubyte"), input);
        assertUserError(() -> IdxDataset.open(plain, labels), "train-images-idx3-ubyte",
                "202263 x 270080539 bytes, more than one array can hold");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(input);
        }
        Path gzipped = Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gz.toByteArray());
        assertUserError(() -> IdxDataset.open(gzipped, labels), "train-images-idx3-ubyte.gz",
                "more than one array can hold");
    }

    /**
     * {@code data_batch_1.bin} beside {@code data_batch_01.bin} (saved input
     * {@code CifarRecordsFuzzTestInputs/records/data-batch-1-and-01}): both were read as batch 1, in the
     * order the folder listing happened to give.
     */
    @Test
    void cifar10TrainingBatchTwice() throws IOException {
        byte[] record = new byte[1 + 3072];
        Files.write(dir.resolve("data_batch_1.bin"), record);
        Files.write(dir.resolve("data_batch_01.bin"), record);
        assertUserError(() -> CifarDataset.open(dir, Split.TRAIN),
                "data_batch_01.bin and data_batch_1.bin are both CIFAR-10 training batch 1; keep one of them");
    }

    /** A backslash before a line break: the JSON error message quoted the line break and became two lines. */
    @Test
    void jsonEscapeOfALineBreak() throws IOException {
        // Decoded as the fuzz test decodes it: invalid UTF-8 becomes U+FFFD.
        String text = new String(Files.readAllBytes(resource(INPUTS + "JsonFuzzTestInputs/json/escaped-line-break-in-message")),
                StandardCharsets.UTF_8);
        assertUserError(() -> Json.parse(text, "fuzz.json"), "fuzz.json: invalid JSON at line 2",
                "unknown escape: a backslash before U+000A");
        assertUserError(() -> Json.parse("[1]\n\u2028", "t"), "unexpected U+2028 after the value");
    }

    /** A 69-byte PNG claiming 20000x20000 pixels made ImageIO allocate the image (400 MB, plus our 4.8 GB of floats). */
    @Test
    void pngClaimingMorePixelsThanItsBytesCanHold() {
        Path png = resource(INPUTS + "ImageFuzzTestInputs/image/png-20000x20000-in-69-bytes");
        assertUserError(() -> ImageDecoder.readHeader(png), "20000x20000 pixels, more than a 69-byte PNG can hold");
        FuzzSupport.expectOwnErrors(69, 0, () -> ImageDecoder.decode(png));
        assertUserError(() -> ImageDecoder.decode(png), "more than a 69-byte PNG can hold");
    }

    /** The same for a JPEG that is only headers: 30000x30000 pixels in 27 bytes. */
    @Test
    void jpegClaimingMorePixelsThanItsBytesCanHold() {
        Path jpeg = resource(INPUTS + "ImageFuzzTestInputs/image/jpeg-30000x30000-in-27-bytes");
        assertUserError(() -> ImageDecoder.readHeader(jpeg), "30000x30000 pixels, more than a 27-byte JPEG can hold");
        FuzzSupport.expectOwnErrors(27, 0, () -> ImageDecoder.decode(jpeg));
    }

    /**
     * A storage of 2^62 float elements (made by TorchFuzzTestInputs/make_numel_overflow.py): its byte
     * count wrapped to 0, so an empty storage was "read" and copying the view failed with an
     * ArrayIndexOutOfBoundsException. Found by reading the code the fuzz run pointed at, not by the run.
     */
    @Test
    void torchStorageWhoseByteCountOverflows() {
        Path pth = resource(INPUTS + "TorchFuzzTestInputs/pth/storage-numel-overflow.pth");
        assertUserError(() -> TorchStateDict.read(pth), "key 'w'", "4611686018427387904 FloatStorage elements",
                "does not fit in one Java array");
    }

    /**
     * A pickle that stores a dict under itself as key, twice ({@code }q0 h0 h0 s h0 h0 s}): hashing
     * the key recursed until a StackOverflowError. Found by reading the pickle VM.
     */
    @Test
    void pickleDictKeyedByItself() {
        Path pth = resource(INPUTS + "TorchFuzzTestInputs/pth/pickle-dict-keyed-by-itself.pth");
        assertUserError(() -> TorchStateDict.read(pth), "unhashable dict key: a dict", "data.pkl");
    }

    /**
     * A 157-byte HDF5 file whose superblock says it is 792 bytes long and whose root object header
     * repeats the superblock: jhdf read on for more than 10 s (Jazzer's timeout). Found by fuzzing
     * KerasH5.read, a target not yet in CI (docs/hardening.md).
     */
    @Test
    void hdf5EndingBeforeItsSuperblockSays() {
        Path h5 = resource(INPUTS + "h5/eof-past-end.h5");
        assertUserError(() -> org.bitengine.io.keras.KerasH5.read(h5), "eof-past-end.h5", "the file ends at byte 0 + 792",
                "but it has 157 bytes");
    }
}
