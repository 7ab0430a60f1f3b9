package io.postern.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineFramerTest {

  private final List<String> records = new ArrayList<>();
  private final LineFramer framer =
      new LineFramer(
          16,
          new LineFramer.Sink() {
            @Override
            public void line(byte[] line) {
              records.add("line:" + new String(line, StandardCharsets.UTF_8));
            }

            @Override
            public void literal(byte[] data) {
              records.add("literal:" + new String(data, StandardCharsets.UTF_8));
            }

            @Override
            public void lineTooLong() {
              records.add("too long");
            }
          });

  private void feed(String text) {
    framer.feed(Buffer.buffer(text));
  }

  @Test
  void splitsLinesAcrossChunksAndAcceptsBareLf() {
    feed("ab");
    feed("c\r");
    feed("\nd\ne\r\n\r\n");

    assertThat(records).containsExactly("line:abc", "line:d", "line:e", "line:");
  }

  @Test
  void readsLiteralsOfExactSize() {
    feed("x {5}\r\n");
    framer.expectLiteral(5);
    feed("ab\r\ncrest\r\n");

    assertThat(records).containsExactly("line:x {5}", "literal:ab\r\nc", "line:rest");
  }

  @Test
  void holdStopsDeliveryUntilRelease() {
    framer.hold();
    feed("one\r\ntwo\r\n");
    assertThat(records).isEmpty();

    framer.release();
    assertThat(records).containsExactly("line:one", "line:two");
  }

  @Test
  void overLongLineStopsTheFramer() {
    feed("0123456789abcdef\r\n");
    feed("0123456789abcdefX");
    feed("more\r\n");

    assertThat(records).containsExactly("line:0123456789abcdef", "too long");
  }
}
