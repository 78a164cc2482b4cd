package pb_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/internal/pb"
)

// Example writes a field backwards, as generated code does, and reads it.
func Example() {
	buf := make([]byte, 1+pb.SizeVarint(5)+5)
	i := pb.PutString(buf, len(buf), "hello")
	i = pb.PutTag(buf, i, 1<<3|pb.WireBytes)
	num, wire, next, err := pb.Key(buf, i)
	if err != nil {
		fmt.Println(err)
		return
	}
	start, end, err := pb.Bytes(buf, next)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(num, wire, string(buf[start:end]))
	_, _, err = pb.Bytes([]byte{0x09, 'x'}, 0)
	fmt.Println(err)
	// Output:
	// 1 2 hello
	// invalid length: 9 bytes declared, 1 remain
}
