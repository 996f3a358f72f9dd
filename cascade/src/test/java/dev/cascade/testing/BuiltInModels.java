package dev.cascade.testing;

import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.ModelSpec;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Every built-in model with default options, loaded once before a test class's first test and
 * closed after its last. Register it as a static {@code @RegisterExtension} field.
 */
public final class BuiltInModels implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, EncoderModel> models = new LinkedHashMap<>();

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    for (String name : ModelSpec.BUILT_IN) {
      models.put(name, EncoderModel.load(ModelSpec.builtIn(name), EncoderOptions.defaults()));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    models.values().forEach(EncoderModel::close);
    models.clear();
  }

  /** The loaded model of one of the names in {@link ModelSpec#BUILT_IN}. */
  public EncoderModel get(String name) {
    EncoderModel model = models.get(name);
    if (model == null) {
      throw new IllegalStateException("built-in model '" + name + "' is not loaded");
    }
    return model;
  }
}
