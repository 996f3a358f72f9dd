package dev.cascade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.GeneratedMessage;
import com.google.protobuf.GeneratedMessageV3;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.cascade.model.onnx.GraphProto;
import dev.cascade.model.onnx.ModelProto;
import dev.cascade.model.onnx.NodeProto;
import dev.cascade.model.onnx.TensorProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * The build runs one protobuf runtime, protobuf-java 4.x from the protobuf BOM, although TF Java's
 * own protos were generated for 3.21: TF's messages and the project's ONNX messages both work on
 * it.
 */
class ProtobufRuntimeTest {

  @Test
  void classpath_holdsOneProtobufRuntime_version4() throws Exception {
    ClassLoader loader = ProtobufRuntimeTest.class.getClassLoader();
    for (String resource :
        List.of(
            "com/google/protobuf/Message.class",
            "com/google/protobuf/GeneratedMessageV3.class",
            "com/google/protobuf/RuntimeVersion.class")) {
      List<URL> copies = Collections.list(loader.getResources(resource));
      assertEquals(1, copies.size(), resource + " is on the classpath once: " + copies);
    }
    // Read reflectively: the constant would be inlined at compile time.
    Class<?> runtimeVersion = Class.forName("com.google.protobuf.RuntimeVersion");
    int major = runtimeVersion.getField("MAJOR").getInt(null);
    int minor = runtimeVersion.getField("MINOR").getInt(null);
    assertEquals(4, major, "protobuf-java major version");

    Path jar = Path.of(Message.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String bundleVersion;
    try (JarFile file = new JarFile(jar.toFile())) {
      bundleVersion = file.getManifest().getMainAttributes().getValue("Bundle-Version");
    }
    assertTrue(
        bundleVersion.startsWith(major + "." + minor + "."),
        jar
            + " is protobuf-java "
            + bundleVersion
            + ", RuntimeVersion says "
            + major
            + "."
            + minor);
    assertTrue(jar.getFileName().toString().startsWith("protobuf-java-4."), jar.toString());

    // TF's 3.21-era messages and the project's 4.x messages share that one runtime.
    assertSame(GeneratedMessageV3.class, ConfigProto.class.getSuperclass());
    assertSame(GeneratedMessage.class, ModelProto.class.getSuperclass());
    for (Class<?> c : List.of(GeneratedMessageV3.class, GeneratedMessage.class)) {
      assertEquals(
          jar,
          Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()),
          c + " comes from the same jar");
    }
    System.out.printf("protobuf runtime: %s (RuntimeVersion %d.%d)%n", jar, major, minor);
  }

  @Test
  void tensorflowConfigProto_serialisedAndParsed_configuresWorkingSession() throws Exception {
    ConfigProto config =
        ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(1)
            .setInterOpParallelismThreads(1)
            .putDeviceCount("CPU", 1)
            .setAllowSoftPlacement(true)
            .setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true))
            .build();
    ConfigProto parsed = ConfigProto.parseFrom(config.toByteArray());
    assertEquals(config, parsed);
    assertEquals(1, parsed.getDeviceCountOrThrow("CPU"));
    assertTrue(parsed.getGpuOptions().getAllowGrowth());

    ConfigProto.Builder fromText = ConfigProto.newBuilder();
    TextFormat.merge(TextFormat.printer().printToString(config), fromText);
    assertEquals(config, fromText.build(), "text format round trip (descriptors work)");

    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      tf.withName("product").math.mul(tf.constant(new float[] {2f, 3f}), tf.constant(7f));
      try (Session session = new Session(graph, parsed)) {
        assertArrayEquals(new float[] {14f, 21f}, fetch(session.runner().fetch("product").run()));

        RunOptions trace =
            RunOptions.parseFrom(
                RunOptions.newBuilder()
                    .setTraceLevel(RunOptions.TraceLevel.FULL_TRACE)
                    .build()
                    .toByteString());
        try (Result result =
            session.runner().fetch("product").setOptions(trace).runAndFetchMetadata()) {
          RunMetadata metadata = result.getMetadata().orElseThrow();
          assertTrue(
              metadata.getStepStats().getDevStatsCount() > 0,
              "step stats parsed from TensorFlow's bytes: " + metadata);
        }
      }

      // A GraphDef made by TensorFlow, parsed by protobuf-java 4, is imported and runs.
      GraphDef def = GraphDef.parseFrom(graph.toGraphDef().toByteArray());
      assertTrue(
          def.getNodeList().stream().map(NodeDef::getName).anyMatch("product"::equals),
          "graph def lists the product node");
      try (Graph copy = new Graph()) {
        copy.importGraphDef(def);
        try (Session session = new Session(copy, parsed)) {
          assertArrayEquals(new float[] {14f, 21f}, fetch(session.runner().fetch("product").run()));
        }
      }
    }
  }

  @Test
  void onnxModelProto_roundTrip_keepsKnownAndUnknownFields() throws IOException {
    byte[] raw =
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array();
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("pytorch")
            .setGraph(
                GraphProto.newBuilder()
                    .setName("g")
                    .addNode(
                        NodeProto.newBuilder()
                            .setOpType("Add")
                            .addInput("x")
                            .addInput("bias")
                            .addOutput("y"))
                    .addInitializer(
                        TensorProto.newBuilder()
                            .setName("bias")
                            .addDims(2)
                            .setDataType(TensorProto.DataType.FLOAT_VALUE)
                            .setRawData(ByteString.copyFrom(raw))))
            .build();
    ModelProto parsed = ModelProto.parseFrom(model.toByteArray());
    assertEquals(model, parsed);
    assertEquals("Add", parsed.getGraph().getNode(0).getOpType());
    assertEquals(ByteString.copyFrom(raw), parsed.getGraph().getInitializer(0).getRawData());

    // ModelProto.metadata_props (field 14) is not in the subset; it must survive as unknown.
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeBytes(14, ByteString.copyFromUtf8("\n\u0003key\u0012\u0005value"));
    out.flush();
    byte[] withUnknown = concat(model.toByteArray(), bytes.toByteArray());
    ModelProto lenient = ModelProto.parseFrom(withUnknown);
    assertEquals(model.getGraph(), lenient.getGraph());
    assertTrue(lenient.getUnknownFields().hasField(14), "unknown field kept");
    assertArrayEquals(withUnknown, lenient.toByteArray(), "re-serialised byte for byte");
  }

  private static float[] fetch(Result result) {
    try (result) {
      TFloat32 t = (TFloat32) result.get(0);
      float[] out = new float[(int) t.size()];
      t.asRawTensor().data().asFloats().read(out);
      return out;
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
